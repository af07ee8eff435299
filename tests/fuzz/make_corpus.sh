#!/usr/bin/env bash
# Regenerates the fuzz seed corpora (tests/fuzz/corpus/<target>/) and tests/fuzz/fuzz_vectors.h
# from the golden vectors in tests/vectors/*.hex (format: tests/vectors/README.md). Dev-only: the
# outputs are committed, run this again only when the vectors change.
#
#   fuzz_bind_ack      BIND_ACK and ALTER_CONTEXT_RESP PDUs
#   fuzz_response_pdu  single RESPONSE PDUs (success and error stubs, NDR32 and NDR64), and the
#                      concatenated s2c PDUs of whole connections (for the exchange state machine)
#   fuzz_kms_response  KMS response payloads (the RESPONSE stub without its NDR wrapping)
#   fuzz_request       the concatenated c2s PDUs of each connection, and raw KMS request payloads
#
# The seeds of fuzz_scenario (the shipped scenarios, some followed by "%%" and --set lines),
# fuzz_catalog (products.ini, a tiny catalogue), fuzz_host_state (state files) and fuzz_eventlog
# (one small event 12290 log per format, written by tests/eventlog/kms_log_gen.h) are committed
# as they are and not touched here.
#
# fuzz_vectors.h holds the KMS request payloads of v4, v5 and v6: the fixed requests the client
# harnesses verify responses against (so the vectors' responses pass every check).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python3 - "$here" <<'PY'
import os
import shutil
import struct
import sys

fuzz = sys.argv[1]
vectors = os.path.join(fuzz, "..", "vectors")
corpus = os.path.join(fuzz, "corpus")


def load(name):
    """Returns the streams of NAME.hex: lists of (direction, bytes)."""
    streams, cur = [], None
    with open(os.path.join(vectors, name + ".hex")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# stream"):
                cur = []
                streams.append(cur)
                continue
            if not line or line.startswith("#"):
                continue
            direction, hexdata = line.split(" ", 1)
            if cur is None:
                cur = []
                streams.append(cur)
            cur.append((direction, bytes.fromhex(hexdata)))
    return streams


def ptype(pdu):
    return pdu[2]


def context_id(pdu):
    return struct.unpack_from("<H", pdu, 20)[0]


def request_payload(pdu):
    """KMS bytes of a REQUEST: NDR32 stub = size, conformance (u32); NDR64 = size, 0, u64."""
    stub = pdu[24:]
    size, conf32 = struct.unpack_from("<II", stub, 0)
    prefix = 8 if conf32 == size else 16
    return stub[prefix:prefix + size]


def response_payload(pdu):
    """KMS bytes of a success RESPONSE (NDR32 stub prefix 12 bytes, NDR64 24), else None."""
    stub = pdu[24:]
    size = struct.unpack_from("<I", stub, 0)[0]
    if size == 0:
        return None
    if struct.unpack_from("<II", stub, 4) == (0x20000, size):
        return stub[12:12 + size]
    if struct.unpack_from("<QQ", stub, 8) == (0x20000, size):
        return stub[24:24 + size]
    raise SystemExit("cannot find the KMS payload of a RESPONSE")


out = {}


def add(target, name, data):
    out.setdefault(target, {})[name] = data


# fuzz_bind_ack: every BIND_ACK / ALTER_CONTEXT_RESP of vectors with distinct negotiations.
for vec in ("v4", "v6_host_ndr64_off", "v6_ndr32_only_bind"):
    for s, stream in enumerate(load(vec), 1):
        for i, (d, pdu) in enumerate(stream):
            if d == "s2c" and ptype(pdu) in (12, 15):
                kind = "bind_ack" if ptype(pdu) == 12 else "alter_resp"
                add("fuzz_bind_ack", f"{vec}_{kind}", pdu)

# fuzz_response_pdu: single RESPONSEs, then whole connections' s2c streams.
for vec in ("v4", "v5", "v6", "v4_pad2", "v6_ndr64", "err_bad_version_ndr64",
            "err_unknown_kmsid"):
    k = 0
    for stream in load(vec):
        for d, pdu in stream:
            if d == "s2c" and ptype(pdu) == 2:
                k += 1
                add("fuzz_response_pdu", f"{vec}_response{k}", pdu)
for vec in ("v4", "v5", "v6", "v4_ndr64", "v6_ndr64", "v6_host_ndr64_off",
            "v6_ndr32_only_bind", "err_bad_version_ndr64"):
    for s, stream in enumerate(load(vec), 1):
        add("fuzz_response_pdu", f"{vec}_s2c_stream{s}",
            b"".join(pdu for d, pdu in stream if d == "s2c"))

# fuzz_kms_response: KMS response payloads, V4 / V5 / V6, NDR32 and NDR64 carried.
picks = {("v4", 1), ("v5", 1), ("v6", 1), ("v4_pad2", 1), ("v6_ndr64", 2), ("v5_ndr64", 2)}
for vec, want in sorted(picks):
    k = 0
    for stream in load(vec):
        for d, pdu in stream:
            if d == "s2c" and ptype(pdu) == 2:
                k += 1
                if k == want:
                    payload = response_payload(pdu)
                    if payload is not None:
                        add("fuzz_kms_response", f"{vec}_kms_response{k}", payload)
for s, stream in enumerate(load("counting"), 1):
    if s in (1, 6):  # V6 Windows and V4 Office 2010
        for d, pdu in stream:
            if d == "s2c" and ptype(pdu) == 2:
                add("fuzz_kms_response", f"counting{s}_kms_response", response_payload(pdu))

# fuzz_request: each connection's c2s PDUs concatenated, plus raw KMS request payloads.
names = sorted(f[:-4] for f in os.listdir(vectors) if f.endswith(".hex"))
for vec in names:
    for s, stream in enumerate(load(vec), 1):
        add("fuzz_request", f"{vec}_c2s_stream{s}",
            b"".join(pdu for d, pdu in stream if d == "c2s"))
fixed = {}
for vec in ("v4", "v5", "v6"):
    req = next(pdu for d, pdu in load(vec)[0] if d == "c2s" and ptype(pdu) == 0)
    fixed[vec] = request_payload(req)
    add("fuzz_request", f"{vec}_kms_request", fixed[vec])

total = 0
for target, files in out.items():
    d = os.path.join(corpus, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        total += len(data)
    print(f"{target}: {len(files)} seeds")
print(f"corpus total: {total} bytes")


def c_array(name, data):
    lines = [f"static const uint8_t {name}[{len(data)}] = {{"]
    for i in range(0, len(data), 12):
        lines.append("    " + ", ".join(f"0x{b:02x}" for b in data[i:i + 12]) + ",")
    lines.append("};")
    return "\n".join(lines)


header = """/*
 * Generated by tests/fuzz/make_corpus.sh from tests/vectors/{v4,v5,v6}.hex: the KMS request
 * payloads of the first REQUEST of each capture. The client-side harnesses decode them into the
 * fixed requests (and W_req) that responses are verified against, so the vectors' responses pass
 * every check and mutations explore the checks one by one.
 */
#ifndef KMSLOAD_FUZZ_VECTORS_H
#define KMSLOAD_FUZZ_VECTORS_H

#include <stdint.h>

"""
header += "\n\n".join(c_array(f"fuzz_{vec}_request", fixed[vec]) for vec in ("v4", "v5", "v6"))
header += "\n\n#endif\n"
with open(os.path.join(fuzz, "fuzz_vectors.h"), "w") as f:
    f.write(header)
print("wrote fuzz_vectors.h")
PY
# Keep the generated header in the repository's style.
if command -v clang-format >/dev/null; then
    clang-format -i "$here/fuzz_vectors.h"
fi
