#!/bin/sh
# bulwarkd against knotd, nsd and named over a veth pair; see scripts/peers.py.
#   scripts/peers.sh [--short] [--out DIR] [--generator replay|kxdpgun] ...
exec /usr/bin/python3 "$(dirname "$0")/peers.py" "$@"
