#!/usr/bin/env bash
# Builds (offline) and checks the demo web server image used by hecd's tests and examples.
# Usage: Deploy/build-demo-image.sh [NAME:TAG]   (default hecd-demo:1)
# Starts dockerd first if it is not answering. Safe to run again: an up-to-date image is not rebuilt.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=Deploy/lib.sh
. "$here/lib.sh"

hecd_start_dockerd
hecd_build_demo_image "$@"
