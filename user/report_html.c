// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* report_html.c - the report as one self-contained HTML page (data as JSON, drawn by inline script) */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "report_folded.h"
#include "report_html.h"

/* the page around the data: styles and markup */
static const char html_head[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\">\n"
"<head>\n"
"<meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<meta name=\"generator\" content=\"memslope\">\n"
"<title>memslope report</title>\n"
"<style>\n"
":root { --fg: #1d2330; --muted: #667085; --line: #d0d5dd; --bg: #fff; --panel: #f8f9fb;"
"\n"
"\t--rss: #2f6fdb; --heap: #e8590c; --fit: #7a3fd1; --oom: #d92d20; --limit: #b42318; }\n"
"* { box-sizing: border-box; }\n"
"body { margin: 0; padding: 16px 24px 40px; font: 14px/1.45 system-ui, -apple-system, \"S"
"egoe UI\", Roboto, \"DejaVu Sans\", sans-serif;\n"
"\tcolor: var(--fg); background: var(--bg); }\n"
"h1 { font-size: 20px; margin: 0 0 4px; }\n"
"h2 { font-size: 16px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid "
"var(--line); }\n"
"h3 { font-size: 14px; margin: 0 0 6px; }\n"
"code, .mono { font-family: ui-monospace, \"DejaVu Sans Mono\", Menlo, Consolas, monospac"
"e; font-size: 12.5px; }\n"
".muted { color: var(--muted); }\n"
"#summary { color: var(--muted); }\n"
".procs { display: flex; flex-wrap: wrap; gap: 16px; }\n"
".proc { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; pad"
"ding: 12px; flex: 1 1 560px; max-width: 820px; }\n"
".proc .argv { color: var(--muted); word-break: break-all; margin-bottom: 6px; }\n"
".badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; "
"font-weight: 600; color: #fff; background: #98a2b3; margin-right: 6px; }\n"
".badge.leak, .badge.critical { background: #d92d20; }\n"
".badge.growing, .badge.warning { background: #dc6803; }\n"
".badge.plateau, .badge.sawtooth { background: #1570ef; }\n"
".badge.stable, .badge.ok { background: #079455; }\n"
".badge.oom { background: #7a271a; }\n"
".chart { width: 100%; height: auto; display: block; margin-top: 6px; }\n"
".chart text { font-size: 11px; fill: var(--muted); }\n"
".chart .axis { stroke: var(--line); }\n"
".chart .grid { stroke: #eaecf0; }\n"
".chart .rss { fill: none; stroke: var(--rss); stroke-width: 2; }\n"
".chart .heap { fill: none; stroke: var(--heap); stroke-width: 2; }\n"
".chart .pt-rss { fill: var(--rss); }\n"
".chart .pt-heap { fill: var(--heap); }\n"
".chart .fit { stroke: var(--fit); stroke-width: 1.5; stroke-dasharray: 6 4; }\n"
".chart .limit { stroke: var(--limit); stroke-width: 1.5; stroke-dasharray: 3 3; }\n"
".chart .oom { stroke: var(--oom); stroke-width: 2; }\n"
".chart text.oom-label, .chart text.limit-label { fill: var(--oom); font-weight: 600; }\n"
".legend { font-size: 12px; color: var(--muted); }\n"
".legend span { margin-right: 12px; }\n"
".legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; mar"
"gin-right: 4px; }\n"
".fg-bar { display: flex; gap: 8px; align-items: center; margin-bottom: 6px; flex-wrap: w"
"rap; }\n"
".fg-bar button { font: inherit; padding: 2px 10px; }\n"
".fg-bar input { font: inherit; padding: 2px 6px; width: 220px; }\n"
"#flamegraph { position: relative; width: 100%; overflow: hidden; border: 1px solid var(-"
"-line); border-radius: 6px; background: #fff; }\n"
".fg-node { position: absolute; height: 17px; overflow: hidden; white-space: nowrap; text"
"-overflow: ellipsis;\n"
"\tfont: 11.5px/17px ui-monospace, \"DejaVu Sans Mono\", Menlo, monospace; padding: 0 3px"
"; color: #1d2330;\n"
"\tborder-right: 1px solid #fff; border-bottom: 1px solid #fff; cursor: pointer; }\n"
".fg-node:hover { filter: brightness(0.9); }\n"
".fg-node.fg-anc { opacity: 0.55; }\n"
".fg-node.fg-merged { background: repeating-linear-gradient(45deg, #d0d5dd, #d0d5dd 3px, "
"#eaecf0 3px, #eaecf0 6px) !important; color: #475467; cursor: default; }\n"
".fg-node.fg-hit { outline: 2px solid #7a3fd1; outline-offset: -2px; }\n"
"#tooltip { position: fixed; pointer-events: none; z-index: 10; display: none; max-width:"
" 520px; background: #101828; color: #fff;\n"
"\tpadding: 6px 9px; border-radius: 6px; font-size: 12px; line-height: 1.4; box-shadow: 0"
" 4px 12px rgba(0,0,0,.25); word-break: break-all; }\n"
"table { border-collapse: collapse; width: 100%; font-size: 13px; }\n"
"th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaecf0; vertical-"
"align: top; }\n"
"th { background: var(--panel); font-weight: 600; }\n"
"td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-n"
"ums; }\n"
"details summary { cursor: pointer; }\n"
"details ol { margin: 4px 0 2px; padding-left: 22px; }\n"
".py { color: #1570ef; }\n"
"footer { margin-top: 30px; color: var(--muted); font-size: 12px; }\n"
"</style>\n"
"</head>\n"
"<body>\n"
"<header>\n"
"<h1 id=\"title\">memslope report</h1>\n"
"<div id=\"summary\"></div>\n"
"</header>\n"
"<h2>Growth per process</h2>\n"
"<div id=\"procs\" class=\"procs\"></div>\n"
"<h2>Live bytes by stack</h2>\n"
"<div class=\"fg-bar\"><button id=\"fg-reset\" type=\"button\">Reset zoom</button>\n"
"<input id=\"fg-search\" type=\"search\" placeholder=\"highlight function…\">\n"
"<span id=\"fg-info\" class=\"muted\"></span></div>\n"
"<div id=\"flamegraph\"></div>\n"
"<h2>Live bytes by test</h2>\n"
"<div id=\"by-test\"></div>\n"
"<h2>Top stacks</h2>\n"
"<div id=\"top-stacks\"></div>\n"
"<footer id=\"footer\"></footer>\n"
"<div id=\"tooltip\"></div>\n"
"<script type=\"application/json\" id=\"memslope-data\">\n";

/* after the data: the script that draws it all (no fetches, no libraries) */
static const char html_tail[] =
"</script>\n"
"<script>\n"
"\"use strict\";\n"
"(function () {\n"
"const T0 = performance.now();\n"
"const D = JSON.parse(document.getElementById(\"memslope-data\").textContent);\n"
"/* watch mode: stacks count the new pages they wrote, not live bytes */\n"
"const WATCH = D.mode === \"watch\";\n"
"const LIVE = WATCH ? \"in new pages\" : \"live\", LIVE_BYTES = WATCH ? \"bytes in new pages\" : \"live bytes\";\n"
"const $ = (id) => document.getElementById(id);\n"
"const esc = (s) => String(s).replace(/[&<>\"']/g, (c) => ({ \"&\": \"&amp;\", \"<\": \"&"
"lt;\", \">\": \"&gt;\", '\"': \"&quot;\", \"'\": \"&#39;\" }[c]));\n"
"const UNITS = [\"KiB\", \"MiB\", \"GiB\", \"TiB\", \"PiB\"];\n"
"function fmtBytes(b) {\n"
"\tif (b === null || b === undefined || !isFinite(b)) return \"?\";\n"
"\tconst neg = b < 0; let v = Math.abs(b);\n"
"\tif (v < 1023.5) return (neg ? \"-\" : \"\") + Math.round(v) + \" B\";\n"
"\tv /= 1024; let u = 0;\n"
"\twhile (v >= 1023.95 && u < UNITS.length - 1) { v /= 1024; u++; }\n"
"\treturn (neg ? \"-\" : \"\") + v.toFixed(1) + \" \" + UNITS[u];\n"
"}\n"
"const fmtDelta = (b) => (b >= 0.5 ? \"+\" : \"\") + fmtBytes(b);\n"
"function fmtDur(s) {\n"
"\tif (s === null || s === undefined || !isFinite(s) || s < 0) return \"?\";\n"
"\tif (s < 59.95) return s.toFixed(1) + \" s\";\n"
"\tconst n = Math.round(s);\n"
"\tif (n < 3600) return Math.floor(n / 60) + \"m\" + String(n % 60).padStart(2, \"0\") + "
"\"s\";\n"
"\tif (n < 360000) return Math.floor(n / 3600) + \"h\" + String(Math.floor(n / 60) % 60)."
"padStart(2, \"0\") + \"m\";\n"
"\treturn Math.floor(n / 86400) + \"d\" + String(Math.floor(n / 3600) % 24).padStart(2, "
"\"0\") + \"h\";\n"
"}\n"
"const fmtCount = (n) => Math.abs(n) < 10000 ? String(n) : Math.abs(n) < 999950 ? (n / 1e"
"3).toFixed(1) + \"k\" : (n / 1e6).toFixed(1) + \"M\";\n"
"const pct = (a, b) => b > 0 ? (100 * a / b).toFixed(a / b < 0.001 ? 3 : 1) + \"%\" : \"-"
"\";\n"
"const NAMES = D.names, FR = D.frames;\t/* FR[i] = [name index, module, file, line, lang]"
" */\n"
"const fname = (fi) => NAMES[FR[fi][0]];\n"
"const ALLOC_RE = /^(malloc|calloc|realloc|reallocarray|free|posix_memalign|aligned_alloc"
"|memalign|valloc|pvalloc|mmap|mmap64|brk|sbrk|strdup|strndup|_Znwm|_Znam|_ZnwmRKSt9nothr"
"ow_t|_ZnamRKSt9nothrow_t|operator new.*|__libc_(malloc|calloc|realloc|memalign)|_int_mal"
"loc|PyMem_\\w+|PyObject_(Malloc|Calloc|Realloc)|_PyObject_\\w*(Malloc|Alloc)\\w*)$/;\n"
"function culprit(st) {\t/* innermost frame that is not the allocator itself */\n"
"\tconst f = st[5];\n"
"\tfor (let i = f.length - 1; i >= 0; i--)\n"
"\t\tif (FR[f[i]][4] === \"py\" || !ALLOC_RE.test(fname(f[i]))) return f[i];\n"
"\treturn f.length ? f[f.length - 1] : -1;\n"
"}\n"
"function where(fi) {\n"
"\tconst fr = FR[fi];\n"
"\tif (fr[2]) return fr[2] + (fr[3] ? \":\" + fr[3] : \"\");\n"
"\treturn fr[1] || \"\";\n"
"}\n"
"\n"
"/* --- summary ---------------------------------------------------------- */\n"
"let total = 0, nstacks = 0;\n"
"for (const p of D.procs) for (const st of p.stacks) { if (st[0] > 0) total += st[0]; nst"
"acks++; }\n"
"const tgt = D.target || {};\n"
"document.title = \"memslope: \" + (tgt.argv && tgt.argv.length ? tgt.argv.join(\" \") : "
"D.procs.length ? D.procs[0].comm : \"report\");\n"
"$(\"title\").textContent = \"memslope report\" + (tgt.argv && tgt.argv.length ? \": \" +"
" tgt.argv.join(\" \") : \"\");\n"
"$(\"summary\").textContent = [D.started_at ? \"started \" + D.started_at : \"\", \"ran "
"\" + fmtDur(D.duration_s),\n"
"\tD.procs.length + \" process\" + (D.procs.length === 1 ? \"\" : \"es\"),\n"
"\tfmtBytes(total) + \" \" + LIVE + \" in \" + nstacks + \" stack\" + (nstacks === 1 ? \"\" : \"s\""
"),\n"
"\t(D.mode || \"exact\") + \" mode\", D.schema === \"memslope.oom/1\" ? \"from an OOM dum"
"p\" : \"\"].filter(Boolean).join(\" · \");\n"
"\n"
"/* --- growth charts ------------------------------------------------------ */\n"
"const SVGNS = \"http://www.w3.org/2000/svg\";\n"
"function niceStep(max, n) {\n"
"\tconst raw = max / n, p = Math.pow(2, Math.floor(Math.log2(raw)));\n"
"\tfor (const m of [1, 1.25, 2, 2.5, 4, 5, 8]) if (p * m >= raw) return p * m;\n"
"\treturn p * 8;\n"
"}\n"
"function median(a) {\n"
"\tif (!a.length) return 0;\n"
"\tconst s = a.slice().sort((x, y) => x - y), h = s.length >> 1;\n"
"\treturn s.length & 1 ? s[h] : (s[h - 1] + s[h]) / 2;\n"
"}\n"
"function chart(p) {\n"
"\tconst W = 760, H = 250, L = 70, R = 16, TOP = 14, B = 34;\n"
"\tconst t = p.series.t, rss = p.series.rss, heap = p.series.heap, n = t.length;\n"
"\tconst svg = document.createElementNS(SVGNS, \"svg\");\n"
"\tsvg.setAttribute(\"viewBox\", `0 0 ${W} ${H}`);\n"
"\tsvg.setAttribute(\"class\", \"chart\");\n"
"\tsvg.setAttribute(\"data-points\", n);\n"
"\tsvg.setAttribute(\"role\", \"img\");\n"
"\tlet h = \"\";\n"
"\tif (!n) {\n"
"\t\th += `<text x=\"${W / 2}\" y=\"${H / 2}\" text-anchor=\"middle\">no samples</text>`;"
"\n"
"\t\tsvg.innerHTML = h;\n"
"\t\treturn svg;\n"
"\t}\n"
"\tconst t0 = t[0], t1 = Math.max(t[n - 1], t0 + 1e-9);\n"
"\tlet ymax = 1;\n"
"\tfor (let i = 0; i < n; i++) ymax = Math.max(ymax, rss[i], heap[i]);\n"
"\t/* a limit far above the data (the host's memory) would flatten it: name it instead */"
"\n"
"\tconst limitIn = p.limit_bytes > 0 && p.limit_bytes <= 4 * ymax;\n"
"\tif (limitIn) ymax = Math.max(ymax, p.limit_bytes);\n"
"\tconst step = niceStep(ymax * 1.05, 5);\n"
"\tymax = Math.ceil(ymax * 1.05 / step) * step;\n"
"\tconst X = (v) => L + (v - t0) / (t1 - t0) * (W - L - R);\n"
"\tconst Y = (v) => TOP + (1 - v / ymax) * (H - TOP - B);\n"
"\tfor (let v = 0; v <= ymax + 1e-6; v += step)\n"
"\t\th += `<line class=\"grid\" x1=\"${L}\" x2=\"${W - R}\" y1=\"${Y(v)}\" y2=\"${Y(v)}\""
"/><text x=\"${L - 6}\" y=\"${Y(v) + 4}\" text-anchor=\"end\">${esc(fmtBytes(v))}</text>`"
";\n"
"\tconst xs = niceStep(t1 - t0, 6);\n"
"\tfor (let v = Math.ceil(t0 / xs) * xs; v <= t1 + 1e-9; v += xs)\n"
"\t\th += `<text x=\"${X(v)}\" y=\"${H - B + 16}\" text-anchor=\"middle\">${esc(fmtDur(v)"
")}</text>`;\n"
"\th += `<line class=\"axis\" x1=\"${L}\" x2=\"${W - R}\" y1=\"${H - B}\" y2=\"${H - B}\""
"/><line class=\"axis\" x1=\"${L}\" x2=\"${L}\" y1=\"${TOP}\" y2=\"${H - B}\"/>`;\n"
"\tif (limitIn) {\n"
"\t\th += `<line class=\"limit\" x1=\"${L}\" x2=\"${W - R}\" y1=\"${Y(p.limit_bytes)}\" y"
"2=\"${Y(p.limit_bytes)}\"/>`;\n"
"\t\th += `<text class=\"limit-label\" x=\"${W - R - 4}\" y=\"${Y(p.limit_bytes) - 4}\" t"
"ext-anchor=\"end\">limit ${esc(fmtBytes(p.limit_bytes))}</text>`;\n"
"\t}\n"
"\tconst line = (ys, cls) => `<polyline class=\"${cls}\" points=\"${ys.map((v, i) => X(t["
"i]).toFixed(1) + \",\" + Y(v).toFixed(1)).join(\" \")}\"/>`;\n"
"\tconst heapShown = heap.some((v) => v > 0);\n"
"\th += line(rss, \"rss\");\n"
"\tif (heapShown) h += line(heap, \"heap\");\n"
"\t/* the fitted slope, through the series the verdict was made on (heap when tracked) */"
"\n"
"\tconst ys = heapShown ? heap : rss;\n"
"\tif (isFinite(p.slope) && p.verdict !== \"insufficient-data\" && n >= 2) {\n"
"\t\tconst b = median(ys.map((v, i) => v - p.slope * t[i]));\n"
"\t\tconst y0 = b + p.slope * t0, y1 = b + p.slope * t1;\n"
"\t\th += `<line class=\"fit\" x1=\"${X(t0)}\" y1=\"${Y(y0)}\" x2=\"${X(t1)}\" y2=\"${Y(y"
"1)}\"><title>fit ${esc(fmtDelta(p.slope))}/s</title></line>`;\n"
"\t}\n"
"\tif (n <= 600) {\n"
"\t\tfor (let i = 0; i < n; i++) {\n"
"\t\t\th += `<circle class=\"pt pt-rss\" r=\"2.6\" cx=\"${X(t[i]).toFixed(1)}\" cy=\"${Y("
"rss[i]).toFixed(1)}\" data-t=\"${t[i]}\" data-v=\"${rss[i]}\"><title>${esc(fmtDur(t[i]))"
"}: RSS ${esc(fmtBytes(rss[i]))}</title></circle>`;\n"
"\t\t\tif (heapShown)\n"
"\t\t\t\th += `<circle class=\"pt pt-heap\" r=\"2.6\" cx=\"${X(t[i]).toFixed(1)}\" cy=\"$"
"{Y(heap[i]).toFixed(1)}\" data-t=\"${t[i]}\" data-v=\"${heap[i]}\"><title>${esc(fmtDur(t"
"[i]))}: heap ${esc(fmtBytes(heap[i]))}</title></circle>`;\n"
"\t\t}\n"
"\t}\n"
"\tif (p.oom_killed) {\n"
"\t\th += `<line class=\"oom\" x1=\"${X(t1)}\" x2=\"${X(t1)}\" y1=\"${TOP}\" y2=\"${H - B"
"}\"/>`;\n"
"\t\th += `<text class=\"oom-label\" x=\"${X(t1) - 4}\" y=\"${TOP + 10}\" text-anchor=\"e"
"nd\">OOM kill</text>`;\n"
"\t}\n"
"\tsvg.innerHTML = h;\n"
"\treturn svg;\n"
"}\n"
"const procsEl = $(\"procs\");\n"
"for (const p of D.procs) {\n"
"\tconst div = document.createElement(\"div\");\n"
"\tdiv.className = \"proc\";\n"
"\tdiv.id = \"proc-\" + p.pid;\n"
"\tconst g = [];\n"
"\tg.push(`<span class=\"badge ${esc(p.verdict)}\">${esc(p.verdict)}</span>`);\n"
"\tif (p.verdict !== \"insufficient-data\") g.push(`<span class=\"badge ${esc(p.severity)"
"}\">${esc(p.severity)}</span>`);\n"
"\tif (p.oom_killed) g.push(`<span class=\"badge oom\">OOM killed</span>`);\n"
"\tlet facts = [];\n"
"\tif (p.verdict !== \"insufficient-data\") facts.push(esc(fmtDelta(p.slope)) + \"/s\", "
"\"r²=\" + (isFinite(p.r2) ? p.r2.toFixed(2) : \"?\"));\n"
"\tif (p.eta !== null && p.eta >= 0) facts.push(\"limit in ~\" + esc(fmtDur(p.eta)));\n"
"\tfacts.push(\"RSS \" + esc(fmtBytes(p.rss)), \"heap \" + esc(fmtBytes(p.heap)), esc(p.e"
"xit));\n"
"\tdiv.innerHTML = `<h3><span class=\"mono\">${esc(p.pid)}</span> ${esc(p.comm)}</h3>` +"
"\n"
"\t\t`<div class=\"argv mono\">${esc((p.argv || []).join(\" \"))}</div><div>${g.join(\"\""
")} <span class=\"verdict-facts\">${facts.join(\" · \")}</span></div>` +\n"
"\t\t`<div class=\"legend\"><span><i style=\"background:var(--rss)\"></i>RSS</span><span>"
"<i style=\"background:var(--heap)\"></i>heap (live tracked)</span>` +\n"
"\t\t(p.verdict !== \"insufficient-data\" && isFinite(p.slope) ? `<span><i style=\"backgr"
"ound:var(--fit)\"></i>fitted slope</span>` : \"\") + (p.limit_bytes ? `<span class=\"lim"
"it-legend\"><i style=\"background:var(--limit)\"></i>limit ${esc(fmtBytes(p.limit_bytes)"
")}${p.limit_bytes > 4 * Math.max(1, ...p.series.rss, ...p.series.heap) ? \" (off the cha"
"rt)\" : \"\"}</span>` : \"\") +\n"
"\t\t(p.oom_killed ? `<span><i style=\"background:var(--oom)\"></i>OOM kill</span>` : \""
"\") + `</div>`;\n"
"\tdiv.appendChild(chart(p));\n"
"\tprocsEl.appendChild(div);\n"
"}\n"
"if (!D.procs.length) procsEl.textContent = \"no processes in this report\";\n"
"\n"
"/* --- flame graph ---------------------------------------------------------- */\n"
"/* nodes in flat arrays: name (-1 root, -2 process), value, first frame, parent, childre"
"n */\n"
"const N_name = [], N_val = [], N_frame = [], N_par = [], N_kids = [], N_label = [];\n"
"function newNode(name, parent, frame, label) {\n"
"\tconst i = N_name.length;\n"
"\tN_name.push(name); N_val.push(0); N_frame.push(frame); N_par.push(parent); N_kids.push"
"(null); N_label.push(label);\n"
"\treturn i;\n"
"}\n"
"const ROOT = newNode(-1, -1, -1, \"all\");\n"
"const kidMaps = [new Map()];\n"
"for (const p of D.procs) {\n"
"\tlet pn = -1;\n"
"\tfor (const st of p.stacks) {\n"
"\t\tconst v = st[0];\n"
"\t\tif (!(v > 0)) continue;\n"
"\t\tif (pn < 0) { pn = newNode(-2, ROOT, -1, p.comm + \"-\" + p.pid); kidMaps.push(new M"
"ap()); kidMaps[ROOT].set(\"p\" + p.pid, pn); }\n"
"\t\tN_val[ROOT] += v; N_val[pn] += v;\n"
"\t\tlet cur = pn;\n"
"\t\tconst f = st[5];\n"
"\t\tfor (let k = 0; k < f.length; k++) {\n"
"\t\t\tconst nm = FR[f[k]][0];\n"
"\t\t\tlet m = kidMaps[cur], c = m.get(nm);\n"
"\t\t\tif (c === undefined) { c = newNode(nm, cur, f[k], null); kidMaps.push(new Map()); "
"m.set(nm, c); }\n"
"\t\t\tN_val[c] += v;\n"
"\t\t\tcur = c;\n"
"\t\t}\n"
"\t}\n"
"}\n"
"for (let i = 0; i < kidMaps.length; i++) {\n"
"\tconst a = Array.from(kidMaps[i].values());\n"
"\ta.sort((x, y) => N_val[y] - N_val[x]);\n"
"\tN_kids[i] = a;\n"
"}\n"
"kidMaps.length = 0;\n"
"const label = (i) => N_label[i] !== null ? N_label[i] : NAMES[N_name[i]];\n"
"const fg = $(\"flamegraph\"), tip = $(\"tooltip\");\n"
"const ROW = 18, MINW = 2.5;\n"
"let zoom = ROOT, search = \"\";\n"
"let drawn = [];\t/* element index -> node, or -1 for merged boxes */\n"
"function hue(s) { let h = 0; for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCode"
"At(i)) | 0; return Math.abs(h); }\n"
"function color(i) {\n"
"\tif (N_name[i] === -1) return \"#c4c9d4\";\n"
"\tif (N_name[i] === -2) return \"#b9a6e8\";\n"
"\tconst fr = FR[N_frame[i]], h = hue(label(i));\n"
"\tif (fr[4] === \"py\") return `hsl(${200 + h % 30},70%,${72 + h % 10}%)`;\n"
"\tif (ALLOC_RE.test(label(i))) return \"#f4c7a1\";\n"
"\tif (!fr[1] && label(i).startsWith(\"[\")) return \"#d0d5dd\";\n"
"\treturn `hsl(${10 + h % 40},${75 + h % 15}%,${62 + h % 12}%)`;\n"
"}\n"
"function render() {\n"
"\tconst W = fg.clientWidth || 1000;\n"
"\tconst parts = [];\n"
"\tdrawn = [];\n"
"\tlet maxDepth = 0;\n"
"\tconst box = (node, x, w, d, cls, text, merged) => {\n"
"\t\tconst di = drawn.length;\n"
"\t\tdrawn.push(merged ? -1 - node : node);\n"
"\t\tconst nm = merged ? \"\" : ` data-name=\"${esc(text)}\"`;\n"
"\t\tconst hit = !merged && search && text.toLowerCase().includes(search) ? \" fg-hit\" :"
" \"\";\n"
"\t\tparts.push(`<div class=\"fg-node${cls}${hit}\" data-i=\"${di}\"${nm} style=\"left:${"
"x.toFixed(1)}px;top:${d * ROW}px;width:${Math.max(w, 1).toFixed(1)}px;background:${merge"
"d ? \"\" : color(node)}\">${w > 28 ? esc(text) : \"\"}</div>`);\n"
"\t\tif (d > maxDepth) maxDepth = d;\n"
"\t};\n"
"\t/* the ancestors of the zoomed node, full width */\n"
"\tconst anc = [];\n"
"\tfor (let a = N_par[zoom]; a >= 0; a = N_par[a]) anc.unshift(a);\n"
"\tanc.forEach((a, d) => box(a, 0, W, d, \" fg-anc\", label(a), false));\n"
"\tconst base = anc.length, scale = N_val[zoom] > 0 ? W / N_val[zoom] : 0;\n"
"\t/* iterative walk; children narrower than MINW merge into one hatched box per parent *"
"/\n"
"\tconst stack = [[zoom, 0, base]];\n"
"\twhile (stack.length) {\n"
"\t\tconst [n, x, d] = stack.pop();\n"
"\t\tconst w = N_val[n] * scale;\n"
"\t\tbox(n, x, w, d, \"\", label(n), false);\n"
"\t\tlet cx = x, smallV = 0, smallN = 0;\n"
"\t\tfor (const c of N_kids[n]) {\n"
"\t\t\tconst cw = N_val[c] * scale;\n"
"\t\t\tif (cw >= MINW) stack.push([c, cx, d + 1]);\n"
"\t\t\telse { smallV += N_val[c]; smallN++; }\n"
"\t\t\tcx += cw;\n"
"\t\t}\n"
"\t\tif (smallN && smallV * scale >= 1) {\n"
"\t\t\tconst di = drawn.length;\n"
"\t\t\tdrawn.push({ merged: smallN, value: smallV, parent: n });\n"
"\t\t\tparts.push(`<div class=\"fg-node fg-merged\" data-i=\"${di}\" style=\"left:${(cx -"
" smallV * scale).toFixed(1)}px;top:${(d + 1) * ROW}px;width:${(smallV * scale).toFixed(1"
")}px\"></div>`);\n"
"\t\t\tif (d + 1 > maxDepth) maxDepth = d + 1;\n"
"\t\t}\n"
"\t}\n"
"\tfg.style.height = ((maxDepth + 1) * ROW + 2) + \"px\";\n"
"\tfg.innerHTML = parts.join(\"\");\n"
"\tfg.setAttribute(\"data-nodes\", drawn.length);\n"
"\t$(\"fg-info\").textContent = zoom === ROOT ? `${fmtBytes(N_val[ROOT])} ${LIVE}; click a f"
"rame to zoom` :\n"
"\t\t`zoomed to ${label(zoom)}: ${fmtBytes(N_val[zoom])} (${pct(N_val[zoom], N_val[ROOT])"
"} of all)`;\n"
"}\n"
"function showTip(ev, html) {\n"
"\ttip.innerHTML = html;\n"
"\ttip.style.display = \"block\";\n"
"\tconst r = tip.getBoundingClientRect();\n"
"\tlet x = ev.clientX + 14, y = ev.clientY + 14;\n"
"\tif (x + r.width > window.innerWidth - 4) x = ev.clientX - r.width - 14;\n"
"\tif (y + r.height > window.innerHeight - 4) y = ev.clientY - r.height - 14;\n"
"\ttip.style.left = Math.max(0, x) + \"px\";\n"
"\ttip.style.top = Math.max(0, y) + \"px\";\n"
"}\n"
"fg.addEventListener(\"mousemove\", (ev) => {\n"
"\tconst el = ev.target.closest(\".fg-node\");\n"
"\tif (!el) { tip.style.display = \"none\"; return; }\n"
"\tconst d = drawn[+el.dataset.i];\n"
"\tif (typeof d === \"object\") {\n"
"\t\tshowTip(ev, `<b>${d.merged} small frame${d.merged === 1 ? \"\" : \"s\"}</b> merged<b"
"r>${esc(fmtBytes(d.value))} ${LIVE} · ${pct(d.value, N_val[ROOT])} of all`);\n"
"\t\treturn;\n"
"\t}\n"
"\tconst n = d, fi = N_frame[n];\n"
"\tlet h = `<b>${esc(label(n))}</b><br>${esc(fmtBytes(N_val[n]))} ${LIVE} · ${pct(N_val[n], "
"N_val[ROOT])} of all`;\n"
"\tif (zoom !== ROOT) h += ` · ${pct(N_val[n], N_val[zoom])} of zoom`;\n"
"\tif (fi >= 0) {\n"
"\t\tconst fr = FR[fi];\n"
"\t\tif (fr[2]) h += `<br>${esc(fr[2])}${fr[3] ? \":\" + fr[3] : \"\"}`;\n"
"\t\tif (fr[1]) h += `<br><span style=\"opacity:.75\">${esc(fr[1])}${fr[4] === \"py\" ? "
"\" (Python)\" : \"\"}</span>`;\n"
"\t}\n"
"\tshowTip(ev, h);\n"
"});\n"
"fg.addEventListener(\"mouseleave\", () => { tip.style.display = \"none\"; });\n"
"fg.addEventListener(\"click\", (ev) => {\n"
"\tconst el = ev.target.closest(\".fg-node\");\n"
"\tif (!el) return;\n"
"\tconst d = drawn[+el.dataset.i];\n"
"\tif (typeof d === \"object\") return;\n"
"\tzoom = d === zoom ? (N_par[d] >= 0 ? N_par[d] : ROOT) : d;\n"
"\trender();\n"
"});\n"
"$(\"fg-reset\").addEventListener(\"click\", () => { zoom = ROOT; render(); });\n"
"$(\"fg-search\").addEventListener(\"input\", (ev) => { search = ev.target.value.trim().t"
"oLowerCase(); render(); });\n"
"let resizeT = 0;\n"
"window.addEventListener(\"resize\", () => { clearTimeout(resizeT); resizeT = setTimeout("
"render, 100); });\n"
"if (N_val[ROOT] > 0) render();\n"
"else { fg.textContent = \"no \" + LIVE_BYTES + \" in any stack\"; fg.style.padding = \"8px\"; }\n"
"\n"
"/* --- tables ----------------------------------------------------------------- */\n"
"const tests = [];\n"
"for (const p of D.procs) for (const t of p.by_test) tests.push([t[0], t[1], p]);\n"
"tests.sort((a, b) => b[1] - a[1]);\n"
"$(\"by-test\").innerHTML = tests.length ? `<table id=\"by-test-table\"><thead><tr><th>te"
"st</th><th>process</th><th class=\"num\">${LIVE_BYTES}</th><th class=\"num\">share</th></tr"
"></thead><tbody>` +\n"
"\ttests.map((t) => `<tr><td class=\"mono\">${esc(t[0])}</td><td>${esc(t[2].comm)} ${t[2]"
".pid}</td><td class=\"num\">${esc(fmtBytes(t[1]))}</td><td class=\"num\">${pct(t[1], tot"
"al)}</td></tr>`).join(\"\") +\n"
"\t`</tbody></table>` : `<p class=\"muted\">no per-test attribution in this report</p>`;"
"\n"
"const TOP = 100, all = [];\n"
"for (const p of D.procs) for (const st of p.stacks) all.push([st, p]);\n"
"all.sort((a, b) => b[0][0] - a[0][0]);\n"
"const rows = all.slice(0, TOP).map(([st, p], k) => {\n"
"\tconst c = culprit(st);\n"
"\tconst frames = st[5].slice().reverse().map((fi) => `<li class=\"${FR[fi][4] === \"py\""
" ? \"py\" : \"\"}\"><span class=\"mono\">${esc(fname(fi))}</span> <span class=\"muted\">"
"${esc(where(fi))}</span></li>`).join(\"\");\n"
"\treturn `<tr><td class=\"num\">${k + 1}</td><td>${esc(p.comm)} ${p.pid}</td><td class="
"\"num\">${esc(fmtBytes(st[0]))}</td><td class=\"num\">${pct(st[0], total)}</td>` +\n"
"\t\t`<td class=\"num\">${esc(fmtCount(st[1]))}</td><td class=\"num\">${esc(fmtDelta(st[4"
"]))}</td><td class=\"num\">${esc(fmtCount(st[3]))} / ${esc(fmtBytes(st[2]))}</td>` +\n"
"\t\t`<td><details><summary><span class=\"mono\">${c >= 0 ? esc(fname(c)) : \"[no stack]"
"\"}</span> <span class=\"muted\">${c >= 0 ? esc(where(c)) : \"\"}</span></summary><ol>${"
"frames}</ol></details></td></tr>`;\n"
"});\n"
"$(\"top-stacks\").innerHTML = all.length ? `<table id=\"top-stacks-table\"><thead><tr><t"
"h class=\"num\">#</th><th>process</th><th class=\"num\">${LIVE}</th><th class=\"num\">share"
"</th><th class=\"num\">${WATCH ? \"pages\" : \"live allocs\"}</th>` +\n"
"\t`<th class=\"num\">growth</th><th class=\"num\">${WATCH ? \"pages\" : \"allocs\"} / bytes in total</th><th>stack "
"(innermost first when opened)</th></tr></thead><tbody>${rows.join(\"\")}</tbody></table>"
"` +\n"
"\t(all.length > TOP ? `<p class=\"muted\">${all.length - TOP} more stacks, ${esc(fmtByte"
"s(all.slice(TOP).reduce((s, x) => s + Math.max(0, x[0][0]), 0)))} ${LIVE}: see the flame gr"
"aph</p>` : \"\") :\n"
"\t`<p class=\"muted\">no stacks in this report</p>`;\n"
"\n"
"const st = D.stats || {};\n"
"const drops = [[\"dropped_allocs\", \"allocations not tracked (raise --max-allocs)\"], ["
"\"dropped_stacks\", \"stacks not recorded (raise --max-stacks)\"], [\"lost_events\", \"e"
"vents lost (raise --ringbuf-size)\"]]\n"
"\t.filter(([k]) => st[k] > 0).map(([k, w]) => st[k] + \" \" + w);\n"
"const ms = performance.now() - T0;\n"
"document.body.setAttribute(\"data-render-ms\", ms.toFixed(0));\n"
"document.body.setAttribute(\"data-ready\", \"1\");\n"
"$(\"footer\").textContent = (drops.length ? \"Warning: \" + drops.join(\"; \") + \". \" "
": \"\") + `memslope ${D.version || \"\"} · ${nstacks} stacks · rendered in ${ms.toFixed("
"0)} ms`;\n"
"})();\n"
"</script>\n"
"</body>\n"
"</html>\n";

/* sticky-error JSON building, as in report.c: one check at the end instead of one per call */
struct hb {
	int err;
	struct json_object *names;	/* array of display names */
	struct json_object *frames;	/* array of [name, module, file, line, lang] */
	struct json_object *name_idx;	/* name -> index (a json-c object as a hash table) */
	struct json_object *frame_idx;	/* frame key -> index */
};

/* json-c's null is a NULL pointer, which hb_add reads as ENOMEM: this stands for it */
static char hb_null_tag;
#define HB_NULL ((struct json_object *)&hb_null_tag)

static struct json_object *hb_add(struct hb *b, struct json_object *obj, const char *key,
				  struct json_object *val)
{
	if (val == HB_NULL) {
		if (b->err)
			return NULL;
		if (json_object_get_type(obj) == json_type_array ? json_object_array_add(obj, NULL) :
		    json_object_object_add(obj, key, NULL))
			b->err = -ENOMEM;
		return NULL;
	}
	if (b->err || !val) {
		json_object_put(val);
		if (!b->err)
			b->err = -ENOMEM;
		return NULL;
	}
	if (json_object_get_type(obj) == json_type_array ? json_object_array_add(obj, val) :
	    json_object_object_add(obj, key, val)) {
		json_object_put(val);
		b->err = -ENOMEM;
		return NULL;
	}
	return val;
}

/* a string made valid UTF-8 (NULL: "") */
static struct json_object *hb_str(struct hb *b, const char *s)
{
	char *clean;
	struct json_object *o;

	if (b->err)
		return NULL;
	clean = report__utf8_dup(s ? s : "");
	if (!clean)
		return NULL;
	o = json_object_new_string(clean);
	free(clean);
	return o;
}

/* JSON has no NaN or Infinity */
static struct json_object *hb_num(double v)
{
	return isfinite(v) ? json_object_new_double(v) : HB_NULL;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

/* the index of a value interned through an object used as a hash table; -1 on error */
static int64_t hb_intern(struct hb *b, struct json_object *idx, const char *key, bool *added)
{
	struct json_object *v;
	int64_t n;

	*added = false;
	if (b->err)
		return -1;
	if (json_object_object_get_ex(idx, key, &v))
		return json_object_get_int64(v);
	n = json_object_object_length(idx);
	if (!hb_add(b, idx, key, json_object_new_int64(n)))
		return -1;
	*added = true;
	return n;
}

/* the index of fr in the frame table, adding it (and its name) when new */
static int64_t hb_frame(struct hb *b, const struct rpt_frame *fr)
{
	char name[512], key[2048];
	const char *py = fr->lang && !strcmp(fr->lang, "python") ? "py" : "c";
	struct json_object *a;
	int64_t ni, fi;
	bool added;

	report__frame_name(fr, name, sizeof(name));
	snprintf(key, sizeof(key), "%s\x01%s\x01%s\x01%d\x01%s", name, fr->module ? fr->module : "",
		 fr->file ? fr->file : "", fr->line, py);
	fi = hb_intern(b, b->frame_idx, key, &added);
	if (fi < 0 || !added)
		return fi;
	ni = hb_intern(b, b->name_idx, name, &added);
	if (ni < 0)
		return -1;
	if (added)
		hb_add(b, b->names, NULL, json_object_new_string(name));
	a = hb_add(b, b->frames, NULL, json_object_new_array());
	hb_add(b, a, NULL, json_object_new_int64(ni));
	hb_add(b, a, NULL, hb_str(b, fr->module ? base_name(fr->module) : ""));
	hb_add(b, a, NULL, hb_str(b, fr->file));
	hb_add(b, a, NULL, json_object_new_int(fr->file && fr->line > 0 ? fr->line : 0));
	hb_add(b, a, NULL, json_object_new_string(py));
	return b->err ? -1 : fi;
}

static struct json_object *hb_argv(struct hb *b, char *const *argv)
{
	struct json_object *a = json_object_new_array();

	for (; a && argv && *argv && !b->err; argv++)
		hb_add(b, a, NULL, hb_str(b, *argv));
	return a;
}

static void hb_process(struct hb *b, struct json_object *arr, const struct rpt_process *p)
{
	struct json_object *o = hb_add(b, arr, NULL, json_object_new_object());
	struct json_object *ser, *t, *rss, *heap, *stacks, *tests;
	char comm[17], ex[64];
	size_t i, k;

	if (!o)
		return;
	memcpy(comm, p->comm, 16);
	comm[16] = '\0';
	hb_add(b, o, "pid", json_object_new_int(p->pid));
	hb_add(b, o, "ppid", json_object_new_int(p->ppid));
	hb_add(b, o, "comm", hb_str(b, comm));
	hb_add(b, o, "argv", hb_argv(b, p->argv));
	fmt_exit(ex, sizeof(ex), p->exited, p->exit_code, p->exit_signal, p->oom_killed);
	hb_add(b, o, "exit", json_object_new_string(ex));
	hb_add(b, o, "oom_killed", json_object_new_boolean(p->oom_killed));
	hb_add(b, o, "limit_bytes", p->limit_bytes ? json_object_new_uint64(p->limit_bytes) : HB_NULL);
	hb_add(b, o, "cgroup", p->cgroup ? hb_str(b, p->cgroup) : HB_NULL);
	hb_add(b, o, "verdict", json_object_new_string(growth_verdict__str(p->growth.verdict)));
	hb_add(b, o, "severity", json_object_new_string(growth_severity__str(p->growth.severity)));
	hb_add(b, o, "slope", hb_num(p->growth.slope_bps));
	hb_add(b, o, "r2", hb_num(p->growth.r2));
	hb_add(b, o, "eta", p->growth.eta_limit_s >= 0 ? hb_num(p->growth.eta_limit_s) :
						       HB_NULL);
	hb_add(b, o, "rss", json_object_new_uint64(p->rss_bytes));
	hb_add(b, o, "heap", json_object_new_int64(p->heap_bytes));

	/* columns, not one object per point: a day at 1 s is 86400 points */
	ser = hb_add(b, o, "series", json_object_new_object());
	t = hb_add(b, ser, "t", json_object_new_array_ext(p->npoints + 1));
	rss = hb_add(b, ser, "rss", json_object_new_array_ext(p->npoints + 1));
	heap = hb_add(b, ser, "heap", json_object_new_array_ext(p->npoints + 1));
	for (i = 0; i < p->npoints && !b->err; i++) {
		hb_add(b, t, NULL, hb_num(p->series[i].t));
		hb_add(b, rss, NULL, json_object_new_uint64(p->series[i].rss_bytes));
		hb_add(b, heap, NULL, json_object_new_uint64(p->series[i].heap_bytes));
	}

	/* [live, live_allocs, alloc_bytes, allocs, growth, [frame indices, outermost first]] */
	stacks = hb_add(b, o, "stacks", json_object_new_array_ext(p->nstacks + 1));
	for (i = 0; i < p->nstacks && !b->err; i++) {
		const struct rpt_stack *st = &p->stacks[i];
		struct json_object *s = hb_add(b, stacks, NULL, json_object_new_array_ext(6));
		struct json_object *fa;

		hb_add(b, s, NULL, json_object_new_int64(st->live_bytes));
		hb_add(b, s, NULL, json_object_new_int64(st->live_allocs));
		hb_add(b, s, NULL, json_object_new_uint64(st->alloc_bytes));
		hb_add(b, s, NULL, json_object_new_uint64(st->allocs));
		hb_add(b, s, NULL, json_object_new_int64(st->growth_bytes));
		fa = hb_add(b, s, NULL, json_object_new_array_ext(st->nframes + 1));
		for (k = st->nframes; k-- > 0 && !b->err;) {
			int64_t fi = hb_frame(b, &st->frames[k]);

			if (fi >= 0)
				hb_add(b, fa, NULL, json_object_new_int64(fi));
		}
	}

	tests = hb_add(b, o, "by_test", json_object_new_array_ext(p->ntests + 1));
	for (i = 0; i < p->ntests && !b->err; i++) {
		struct json_object *tt = hb_add(b, tests, NULL, json_object_new_array_ext(2));

		hb_add(b, tt, NULL, hb_str(b, p->by_test[i].test ? p->by_test[i].test :
								  REPORT_UNKNOWN));
		hb_add(b, tt, NULL, json_object_new_int64(p->by_test[i].live_bytes));
	}
}

static struct json_object *html_data(const struct rpt *r, int *err)
{
	struct hb b = {};
	struct json_object *root = json_object_new_object(), *o, *a;
	char ex[64];
	size_t i;

	if (!root) {
		*err = -ENOMEM;
		return NULL;
	}
	b.names = hb_add(&b, root, "names", json_object_new_array());
	b.frames = hb_add(&b, root, "frames", json_object_new_array());
	b.name_idx = json_object_new_object();
	b.frame_idx = json_object_new_object();
	if (!b.name_idx || !b.frame_idx)
		b.err = -ENOMEM;
	hb_add(&b, root, "schema", json_object_new_string(REPORT_SCHEMA));
	hb_add(&b, root, "version", json_object_new_string(MEMSLOPE_VERSION));
	hb_add(&b, root, "started_at", hb_str(&b, r->started_at));
	hb_add(&b, root, "duration_s", hb_num(r->duration_s));
	hb_add(&b, root, "interval_s", hb_num(r->interval_s));
	hb_add(&b, root, "mode", json_object_new_string(r->mode ? r->mode : "exact"));
	o = hb_add(&b, root, "target", json_object_new_object());
	if (o) {
		hb_add(&b, o, "pid", json_object_new_int(r->target_pid));
		hb_add(&b, o, "argv", hb_argv(&b, r->target_argv));
		fmt_exit(ex, sizeof(ex), r->target_exited, r->target_exit_code,
			 r->target_exit_signal, r->target_oom_killed);
		hb_add(&b, o, "exit", json_object_new_string(ex));
	}
	a = hb_add(&b, root, "procs", json_object_new_array_ext(r->nprocs + 1));
	for (i = 0; i < r->nprocs && !b.err; i++)
		hb_process(&b, a, &r->procs[i]);
	o = hb_add(&b, root, "stats", json_object_new_object());
	if (o) {
		hb_add(&b, o, "events", json_object_new_uint64(r->stats.events));
		hb_add(&b, o, "lost_events", json_object_new_uint64(r->stats.lost_events));
		hb_add(&b, o, "dropped_allocs", json_object_new_uint64(r->stats.dropped_allocs));
		hb_add(&b, o, "dropped_stacks", json_object_new_uint64(r->stats.dropped_stacks));
	}
	json_object_put(b.name_idx);
	json_object_put(b.frame_idx);
	if (b.err) {
		json_object_put(root);
		*err = b.err;
		return NULL;
	}
	return root;
}

int report__write_html(const struct rpt *r, FILE *f)
{
	struct json_object *root;
	const char *s, *p, *lt;
	size_t len;
	int err = 0;

	if (!r || !f)
		return -EINVAL;
	root = html_data(r, &err);
	if (!root)
		return err;
	s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!s) {
		err = -ENOMEM;
		goto cleanup;
	}
	fputs(html_head, f);
	/*
	 * Inside <script>, "</script>" or "<!--" in a name would end or confuse the
	 * element; '<' only occurs inside JSON strings, where \u003c means the same.
	 */
	for (p = s; (lt = memchr(p, '<', s + len - p)); p = lt + 1) {
		fwrite(p, 1, lt - p, f);
		fputs("\\u003c", f);
	}
	fwrite(p, 1, s + len - p, f);
	fputs("\n", f);
	fputs(html_tail, f);
	errno = 0;
	if (fflush(f) || ferror(f))
		err = errno ? -errno : -EIO;
cleanup:
	json_object_put(root);
	return err;
}
