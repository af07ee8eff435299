# kmsload: a KMS client emulator and load tester.
#   docker build -t kmsload .
#   docker run --rm -v "$PWD/results:/out" kmsload run scenarios/smoke.ini --out /out/smoke
# Scenario paths that do not exist in the working directory are looked up among the scenarios
# shipped in /opt/kmsload/share/kmsload (so scenarios/smoke.ini works from /out).
# The build stage compiles and runs the Criterion suites (a failing test fails the build; the
# shell checks, which want Chromium and Prometheus, run in .ci/run);
# the runtime stage carries the binary, its data files, the runtime libraries and gnuplot.

FROM debian:bookworm-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libevent-dev libssl-dev libcriterion-dev \
        libinih-dev libjansson-dev libcsv-dev libxml2-dev gnuplot-nox libc-ares-dev dnsmasq-base \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt .clang-format ./
COPY emulator emulator
COPY tests tests
COPY scenarios scenarios
COPY reports reports
COPY docs docs
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/opt/kmsload \
    && cmake --build build -j"$(nproc)" \
    && ctest --test-dir build --output-on-failure -LE shell \
    && cmake --install build --strip

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libevent-2.1-7 libevent-pthreads-2.1-7 libssl3 libinih1 libjansson4 libcsv3 libxml2 libc-ares2 gnuplot-nox \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/kmsload kmsload \
    && mkdir /out && chown kmsload /out
COPY --from=build /opt/kmsload /opt/kmsload
ENV PATH=/opt/kmsload/bin:$PATH
WORKDIR /out
USER kmsload
VOLUME ["/out"]
ENTRYPOINT ["kmsload"]
CMD ["--help"]
LABEL org.opencontainers.image.title="kmsload" \
      org.opencontainers.image.description="KMS client emulator and load tester with a reference KMS host" \
      org.opencontainers.image.version="0.1.0"
