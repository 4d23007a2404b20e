#!/bin/bash
# kalshi-keygen.sh: makes a Kalshi-style API key for local use with kalshi-sim.
#
#   scripts/kalshi-keygen.sh DIR [--pkcs1] [--bits N]
#
# Writes into DIR (created if needed):
#   kalshi-private.pem  the RSA private key, PKCS#8 ("BEGIN PRIVATE KEY"), or PKCS#1
#                       ("BEGIN RSA PRIVATE KEY") with --pkcs1, as Kalshi's site hands them out; mode 0600
#   kalshi-public.pem   its public half (SubjectPublicKeyInfo): give it to kalshi-sim --pubkey
#   kalshi-key-id       a random UUID to send as KALSHI-ACCESS-KEY (kalshi-sim --key-id)
# Existing files are never overwritten. Needs only the openssl command.
set -euo pipefail

usage() {
	echo "usage: $0 DIR [--pkcs1] [--bits N]" >&2
	exit 2
}

[ $# -ge 1 ] || usage
dir=$1
shift
bits=2048
pkcs1=0
while [ $# -gt 0 ]; do
	case $1 in
	--pkcs1) pkcs1=1 ;;
	--bits) [ $# -ge 2 ] || usage; bits=$2; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $bits =~ ^[0-9]+$ ]] && [ "$bits" -ge 2048 ] || { echo "bits must be a number >= 2048" >&2; exit 2; }

mkdir -p "$dir"
priv=$dir/kalshi-private.pem
pub=$dir/kalshi-public.pem
kid=$dir/kalshi-key-id
for f in "$priv" "$pub" "$kid"; do
	if [ -e "$f" ]; then
		echo "$f exists; not overwriting" >&2
		exit 1
	fi
done

umask 077
if [ $pkcs1 -eq 1 ]; then
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" 2>/dev/null |
		openssl pkey -traditional -out "$priv"
else
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$priv" 2>/dev/null
fi
umask 022
openssl pkey -in "$priv" -pubout -out "$pub"
if [ -r /proc/sys/kernel/random/uuid ]; then
	cat /proc/sys/kernel/random/uuid >"$kid"
else
	openssl rand -hex 16 | sed -E 's/(.{8})(.{4})(.{4})(.{4})(.{12})/\1-\2-\3-\4-\5/' >"$kid"
fi
echo "wrote $priv, $pub and $kid"
