#!/usr/bin/env bash
# Debian packages the services need: Mosquitto, PostgreSQL, a JDK and Maven for Apache
# Kafka (its jars come from Maven Central on first use), Node.js for the WASM TimescaleDB
# of the schema test (its npm packages come on first use), Pango, fonts and poppler for
# the reports, Chromium for the browser test of the cleansing review page. Installs only
# what is missing.
set -euo pipefail

missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
# Node runs the WASM TimescaleDB (PGlite) that checks the schema is valid TimescaleDB.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# The reports: WeasyPrint (PyPI) renders PDF with Pango and the DejaVu fonts; pdftoppm
# (poppler-utils) turns a report's pages into PNG in the tests.
ldconfig -p | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
ldconfig -p | grep -q libharfbuzz-subset || missing+=(libharfbuzz-subset0)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
# The cleansing review page's test drives Debian's Chromium headless (Playwright, PyPI).
command -v chromium >/dev/null || missing+=(chromium)
# Alertmanager is built from its Go module at first use (services/alertmanager.py), which
# needs Go 1.21 or later (it fetches the newer toolchain the module asks for from the
# module proxy). Machines of this project's kind have it in /usr/local/go; Debian's
# golang-go (1.19) is too old, so it is not installed in its place.
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "warning: Go 1.21+ not found (PATH, /usr/local/go/bin): Alertmanager cannot be built" >&2
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The postgresql package starts a cluster on 5432 through its init scripts where it can;
# the project starts its own servers on free ports and does not need it.
