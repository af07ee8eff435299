# kmsload: a KMS client emulator and load tester.
#   docker build -t kmsload .
#   docker run --rm -v "$PWD/results:/out" kmsload run smoke --out /out/smoke
#   docker run -d -p 1688:1688 -p 9464:9464 kmsload host --listen 0.0.0.0:1688 --metrics 0.0.0.0:9464
#   docker run -d -p 9466:9466 kmsload watch kms.corp.example --metrics 0.0.0.0:9466 --cmid-seed kms-watch
# Scenario names and paths that do not exist in the working directory are looked up among the
# scenarios shipped in /usr/share/kmsload (so `run smoke` and scenarios/smoke.ini work from /out).
# Stages: build compiles, runs the Criterion suites (a failing test fails the build; the shell
# checks, which want Chromium and Prometheus, run in .ci/run) and makes the Debian package (cpack); package-check installs that .deb into a clean bookworm with apt (its
# shlibdeps Depends and the gnuplot Recommends resolved from the archive), runs a scenario and
# `man kmsload` there and purges it, leaving nothing behind; the runtime image is that same .deb
# installed on bookworm-slim, with gnuplot, as an unprivileged user (uid 10001).
# Build arguments for the OCI labels: VERSION, SOURCE (the repository URL), REVISION (commit).

FROM debian:bookworm-slim AS build
# The slim image leaves out /usr/share/man and /usr/share/groff (dpkg path-exclude): the man page
# tests need groff's devices, so that exclusion goes first. file: cpack's shlibdeps reads the
# binary with it (without it cpack -G DEB stops: "file utility is not available").
RUN rm -f /etc/dpkg/dpkg.cfg.d/docker \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake pkg-config libevent-dev libssl-dev libcriterion-dev \
        libinih-dev libjansson-dev libcsv-dev libxml2-dev gnuplot-nox libc-ares-dev dnsmasq-base \
        man-db file \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt .clang-format ./
COPY emulator emulator
COPY tests tests
COPY scenarios scenarios
COPY reports reports
COPY docs docs
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
    && cmake --build build -j"$(nproc)" \
    && ctest --test-dir build --output-on-failure -LE shell \
    && cd build && cpack -G DEB && mkdir /deb && cp kmsload_*.deb /deb/kmsload.deb

# The package in a clean image: apt resolves its dependencies, a scenario runs from / with the
# charts drawn, the man pages render, and a purge leaves no file of it.
FROM debian:bookworm-slim AS package-check
COPY --from=build /deb/kmsload.deb /deb/kmsload.deb
RUN rm -f /etc/dpkg/dpkg.cfg.d/docker \
    && apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y /deb/kmsload.deb man-db \
    && dpkg -L kmsload >/tmp/kmsload.files \
    && cd / && kmsload run smoke --out /tmp/smoke -q \
    && test -s /tmp/smoke/index.html && test -s /tmp/smoke/charts/count.png \
    && man kmsload | grep -q kmsload-run && man kmsload-run | grep -q -- --target \
    && man 5 kmsload-scenario | grep -q population \
    && DEBIAN_FRONTEND=noninteractive apt-get purge -y kmsload \
    && ! test -e /usr/bin/kmsload \
    && ! dpkg-query -W -f='${Status}' kmsload 2>/dev/null | grep -q 'install ok installed' \
    && left=$(grep -E '/kmsload|kmsload[^/]*$' /tmp/kmsload.files | while read -r f; do \
           if [ -e "$f" ]; then echo "$f"; fi; done) \
    && if [ -n "$left" ]; then echo "left after purge: $left" >&2; exit 1; fi \
    && rm -rf /var/lib/apt/lists/* /tmp/smoke /tmp/kmsload.files

FROM debian:bookworm-slim
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/kmsload/kmsload
ARG REVISION=unknown
COPY --from=package-check /deb/kmsload.deb /tmp/kmsload.deb
COPY docs/container/healthcheck.sh /usr/local/bin/kmsload-healthcheck
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        /tmp/kmsload.deb gnuplot-nox \
    && rm -rf /var/lib/apt/lists/* /tmp/kmsload.deb \
    && useradd --system --uid 10001 --create-home --home-dir /home/kmsload kmsload \
    && mkdir /out && chown kmsload /out
WORKDIR /out
USER kmsload
VOLUME ["/out"]
# 1688: the KMS port of `kmsload host --listen 0.0.0.0:1688`; 9464 and 9466: the README's
# --metrics ports of host and watch.
EXPOSE 1688 9464 9466
# host: its listening port accepts and, with --metrics, /metrics answers; watch: its /metrics
# answers. No KMS request is sent, so no count changes (docs/container/healthcheck.sh).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/kmsload-healthcheck"]
ENTRYPOINT ["kmsload"]
CMD ["--help"]
LABEL org.opencontainers.image.title="kmsload" \
      org.opencontainers.image.description="KMS client emulator and load tester with a reference KMS host" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="NOASSERTION"
