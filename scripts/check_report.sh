#!/usr/bin/env bash
# Opens an ittai report in headless Chromium and checks that it works offline:
#   1. every chart (inline SVG) is laid out with a non-zero size, and every Japanese label
#      inside the charts has a rendered width;
#   2. Japanese is drawn with real glyphs, not tofu: two different kanji drawn in the
#      report's font differ from each other and from the "missing glyph" box;
#   3. the expected sections are there (summary, each indicator, funnels, life table,
#      programme evaluation, cost by disease group, notes);
#   4. optionally, screenshots of the summary, one indicator, the funnels and the life
#      table.
#
# Usage: scripts/check_report.sh [REPORT_HTML] [SCREENSHOT_DIR]
#   defaults: out/report.html, no screenshots.
# Needs: chromium and a CJK font (Debian: apt-get install chromium fonts-noto-cjk).
# Exit status: 0 when every check passes, 1 when one fails, 2 no report, 3 no chromium.
set -euo pipefail

report=${1:-out/report.html}
shots=${2:-}
[ -f "$report" ] || { echo "check_report: $report does not exist (run: ittai run && ittai report)" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "check_report: chromium not found (apt-get install chromium fonts-noto-cjk)" >&2; exit 3; }
# A fresh profile, and no background connections (CI machines have no network beyond
# package mirrors; Chromium's own update and sync requests only slow it down there).
run() {
  timeout 180 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" "$@" 2>/dev/null
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A copy of the report with a probe appended (browsers run a script after </html> as part
# of the body).
cp "$report" "$tmp/probe.html"
cat >> "$tmp/probe.html" <<'JS'
<script>
window.addEventListener("load", async () => {
  await document.fonts.ready;
  const svgs = [...document.querySelectorAll("svg")];
  const empty = svgs.filter(s => { const r = s.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); }).length;
  const jp = [...document.querySelectorAll("svg text")].filter(t => /[\u3040-\u30ff\u4e00-\u9fff]/.test(t.textContent));
  const unrendered = jp.filter(t => !(t.getComputedTextLength() > 0)).length;
  const font = getComputedStyle(document.querySelector("svg text")).fontFamily;
  const glyph = ch => {
    const c = document.createElement("canvas"); c.width = 48; c.height = 48;
    const x = c.getContext("2d"); x.font = "40px " + font; x.fillText(ch, 2, 42);
    return x.getImageData(0, 0, 48, 48).data.join(",");
  };
  const glyphs = glyph("健") !== glyph("診") && glyph("健") !== glyph("\u0378") ? "real" : "tofu";
  const need = ["summary", "checkup_rate", "dental_checkup_rate", "high_risk_rate-R01", "high_risk_rate-R10",
                "certification_rate", "life_expectancy_75", "independence_75", "medical_cost", "care_cost",
                "polypharmacy_rate", "duplicate_rate", "generic_share", "funnels", "life",
                "evaluation", "disease_costs", "notes"];
  const missing = need.filter(id => !document.getElementById(id));
  const out = document.createElement("pre");
  out.id = "ittai-check";
  out.textContent = `charts=${svgs.length} empty=${empty} japanese_labels=${jp.length} unrendered=${unrendered} glyphs=${glyphs} missing=${missing.join(",") || "none"}`;
  document.body.appendChild(out);
});
</script>
JS
line=$(run --virtual-time-budget=10000 --dump-dom "file://$tmp/probe.html" | grep -o 'id="ittai-check">[^<]*' | sed 's/.*>//' || true)
expected=$(grep -o '<svg' "$report" | wc -l)
echo "chromium: $("$browser" --version 2>/dev/null | head -1)"
echo "probe:    ${line:-no result} (charts in the file: $expected)"
fail=0
case "$line" in
  "charts=$expected empty=0 "*" unrendered=0 glyphs=real missing=none") ;;
  *) fail=1 ;;
esac
[ "$expected" -gt 0 ] || fail=1

if [ -n "$shots" ]; then
  mkdir -p "$shots"
  for part in summary:1700 checkup_rate:2100 funnels:2300 life:1900 evaluation:2600 disease_costs:1500; do
    id=${part%%:*}; h=${part##*:}
    cp "$report" "$tmp/$id.html"
    echo "<style>main > :not(#$id){display:none}</style>" >> "$tmp/$id.html"
    run --window-size=1200,"$h" --screenshot="$shots/report_$id.png" "file://$tmp/$id.html" >/dev/null
    echo "screenshot: $shots/report_$id.png"
  done
fi

if [ $fail -eq 0 ]; then
  echo "OK: the report opens in headless Chromium with every chart and Japanese text rendered"
else
  echo "FAIL: see the probe line above" >&2
fi
exit $fail
