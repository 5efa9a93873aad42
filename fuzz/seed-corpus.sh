#!/usr/bin/env bash
# Writes the daemon's byte fixtures (the `const NAME: [u8; N]` arrays of its unit tests: captured
# kernel messages) as seeds into corpus/<target>/, for the message-parser fuzz targets, and a few
# argument sets for nfqueue_verdicts. Then minimise: `cargo +nightly fuzz cmin <target>`.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

# fixtures FILE: writes each fixture of FILE to seeds/NAME, checking its declared length.
fixtures() {
    awk -v out=seeds '
        function hex(digits,    v, i) {
            v = 0
            for (i = 1; i <= length(digits); i++)
                v = v * 16 + index("0123456789abcdef", tolower(substr(digits, i, 1))) - 1
            return v
        }
        match($0, /const [A-Z0-9_]+: \[u8; [0-9]+\] = \[/) {
            split(substr($0, RSTART + 6), words, /[:; \]]+/)
            name = words[1]; want = words[3]; n = 0; bytes = ""; next
        }
        name != "" && /^ *\];/ {
            if (n != want) { print FILENAME ": " name ": " n " bytes, declared " want > "/dev/stderr"; exit 1 }
            printf "%s", bytes > (out "/" name); close(out "/" name); name = ""; next
        }
        name != "" {
            sub(/\/\/.*/, "")
            count = split($0, values, /[ ,]+/)
            for (i = 1; i <= count; i++) {
                if (values[i] == "") continue
                v = values[i] ~ /^0x/ ? hex(substr(values[i], 3)) : values[i] + 0
                bytes = bytes sprintf("%c", v); n++
            }
        }
    ' "$1"
}

rm -rf seeds && mkdir seeds
trap 'rm -rf seeds' EXIT
for file in ../wire/src/netlink.rs ../wire/src/nfqueue.rs ../wire/src/rtnetlink.rs; do
    fixtures "$file"
done

seed() { # seed TARGET NAME FIXTURE...: the fixtures joined, as one datagram
    local target=$1 name=$2
    shift 2
    mkdir -p "corpus/$target"
    (cd seeds && cat "$@") >"corpus/$target/$name"
}
for fixture in $(ls seeds); do
    seed nfqueue_messages "$fixture" "$fixture"
done
seed nfqueue_messages PACKET_V4+ACK_OK+PACKET_V6 PACKET_V4 ACK_OK PACKET_V6
for fixture in NEWLINK_MTU_1400 DELLINK ACK_OK ACK_EPERM NOOP_THEN_ACK; do
    seed rtnetlink_messages "$fixture" "$fixture"
done
seed rtnetlink_messages NEWLINK+DELLINK+NEWLINK NEWLINK_MTU_1400 DELLINK NEWLINK_MTU_1400

# nfqueue_verdicts reads: which, buffer length (2, big-endian), queue (2), id (4), offset (8,
# little-endian), payload length (8, little-endian); see fuzz_targets/nfqueue_verdicts.rs.
verdict() { # verdict NAME WHICH LEN QUEUE ID AT PAYLOAD_LEN
    mkdir -p corpus/nfqueue_verdicts
    printf "$(printf '\\x%02x' "$2" $(( $3 >> 8 )) $(( $3 & 255 )) $(( $4 >> 8 )) $(( $4 & 255 )) \
        $(( $5 >> 24 )) $(( ($5 >> 16) & 255 )) $(( ($5 >> 8) & 255 )) $(( $5 & 255 )) \
        $(( $6 & 255 )) $(( ($6 >> 8) & 255 )) 0 0 0 0 0 0 \
        $(( $7 & 255 )) $(( ($7 >> 8) & 255 )) $(( ($7 >> 16) & 255 )) 0 0 0 0 0)" \
        >"corpus/nfqueue_verdicts/$1"
}
verdict accept-fits          0 32   4242 1     0  0
verdict accept-one-short     0 31   4242 1     0  0
verdict batch-second         1 64   4242 7     32 0
verdict payload-61           2 36   4242 1     0  61
verdict payload-max          2 40   1    1     4  65531
verdict payload-too-long     2 36   1    1     0  65532
