#!/usr/bin/env bash
# Tests/Peers/test-certificates.sh DIR: the certificates the TLS tests use, written into DIR with
# the openssl command (valid 2 days):
#   ca.crt/ca.key            the test CA                    sca.crt/sca.key    a stranger CA
#   server.crt/server.key    127.0.0.1, from the test CA    sserver.crt/.key   127.0.0.1, from the stranger CA
#   client.crt/client.key    a client, from the test CA     stranger.crt/.key  a client, from the stranger CA
#   wrong.crt/wrong.key      elsewhere.example only, from the test CA
# Used by the Swift MQTT tests (TestCertificates) and Scripts/build-aarch64's TLS check.
set -euo pipefail
cd "${1:?usage: Tests/Peers/test-certificates.sh DIR}"
{
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vigil-test-ca -keyout ca.key -out ca.crt
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stranger-ca -keyout sca.key -out sca.crt
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext
  printf 'subjectAltName=DNS:elsewhere.example\n' > wrong.ext
  signed() { # NAME CN CA [EXTFILE]
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 2 ${4:+-extfile "$4"} -out "$1.crt"
  }
  signed server 127.0.0.1 ca san.ext
  signed client sim-node-1 ca
  signed stranger stranger sca
  signed sserver 127.0.0.1 sca san.ext
  signed wrong elsewhere.example ca wrong.ext
} 2>/dev/null
# Readable by a broker that drops root to its own user.
chmod 644 ./*.key
