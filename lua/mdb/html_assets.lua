--- The HTML report's one style sheet and one script, as constants: the
-- page's Content-Security-Policy allows exactly these two by their
-- SHA-256 hashes and nothing else (no request of any kind, no other
-- inline code).  The script only adds conveniences — sortable findings,
-- a filter box, everything opened for printing — the page reads the same
-- without it.
-- @module mdb.html_assets
local M = {}

M.CSS = [[
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;--card:#f6f8fa;
--ok:#1a7f37;--warning:#9a6700;--critical:#cf222e;--error:#8250df;--auto:#0969da;--man:#bf3989;
--untyped:#0969da;--prog:#bc4c00;--gap:#ffcecb;--open:#eef1f4;--grid:#d1d9e0;--absent:#f6f8fa}
@media screen and (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#9198a1;
--line:#3d444d;--card:#151b23;--ok:#3fb950;--warning:#d29922;--critical:#f85149;--error:#ab7df8;
--auto:#4493f8;--man:#f778ba;--untyped:#4493f8;--prog:#f0883e;--gap:#5c1a1b;--open:#212830;
--grid:#2f353d;--absent:#151b23}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:80rem;padding:1rem 1.5rem 3rem;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:0}a{color:inherit}small,.mute{color:var(--mute)}
code{font:12px ui-monospace,monospace}
header dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.5rem 0}
header dt{color:var(--mute)}header dd{margin:0}
.counts{display:flex;flex-wrap:wrap;gap:.4rem;margin:.6rem 0;padding:0;list-style:none}
.st{display:inline-block;min-width:4.6em;padding:0 .4em;border-radius:.25em;text-align:center;font-weight:600;
color:#fff;background:var(--mute)}
.st.ok{background:var(--ok)}.st.warning{background:var(--warning)}.st.critical{background:var(--critical)}
.st.error{background:var(--error)}
.st.unexpected{background:var(--critical)}.st.expected{background:var(--ok)}.st.info{background:#59636e}
td.nw{white-space:nowrap}
.counts li{border:1px solid var(--line);border-radius:.3em;padding:.15em .5em .15em .15em}
table{border-collapse:collapse}
.findings{width:100%}.findings th,.findings td{padding:.25em .5em;border-bottom:1px solid var(--line);
text-align:left;vertical-align:top}.findings td:last-child{width:55%}
th button{all:inherit;cursor:pointer;text-decoration:underline dotted}
.legend{display:flex;flex-wrap:wrap;gap:1rem;padding:0;list-style:none;color:var(--mute)}
.legend svg{width:18px;height:14px;vertical-align:middle}
section.cl{border:1px solid var(--line);border-left:4px solid var(--ok);border-radius:.3em;padding:.5em .7em;
margin:.6em 0;background:var(--card)}
section.cl.warning{border-left-color:var(--warning)}section.cl.critical{border-left-color:var(--critical)}
section.cl.error{border-left-color:var(--error)}
section.cl.unexpected{border-left-color:var(--critical)}section.cl.info{border-left-color:var(--mute)}
.facts{margin:.2em 0}.fl{margin:.3em 0 0;padding-left:1.2em}
svg.tl{display:block;width:100%;height:26px;background:var(--bg);border:1px solid var(--line)}
svg.ax{display:block;width:100%;height:14px}svg.ax text{font-size:9px;fill:var(--mute)}
svg.hs{display:block;width:100%;height:40px;margin-top:.3em;border-bottom:1px solid var(--line)}
svg.hs path.area{fill:color-mix(in srgb,var(--auto) 18%,transparent);stroke:none}
svg.hs path{fill:none;stroke:var(--auto);stroke-width:1.5px;
vector-effect:non-scaling-stroke}
.defs{position:absolute}
.grid{stroke:var(--grid);stroke-width:1px;vector-effect:non-scaling-stroke;fill:none}
rect.d{y:0;width:24px;height:24px}
.d.missing{fill:var(--gap)}.d.open{fill:var(--open)}.d.absent,.d.expired{fill:var(--absent)}
.d.progress{fill:var(--open)}.d.failed{fill:var(--gap)}
.d.unknown{fill:color-mix(in srgb,var(--error) 12%,var(--bg));stroke:var(--error);stroke-width:1px;
stroke-dasharray:2 2;vector-effect:non-scaling-stroke}
rect.mk{y:2px;width:.9px;height:20px}
.mk.a{fill:var(--auto)}.mk.u{fill:var(--untyped)}
.mk.m{fill:var(--man);y:6px;width:2.2px;height:12px}
.mk.p{fill:none;stroke:var(--prog);stroke-width:1.5px;vector-effect:non-scaling-stroke;width:2.4px;y:3px;height:18px}
.mk.f{fill:var(--critical);width:2.4px}
rect.vx{fill:none;stroke:var(--critical);stroke-dasharray:2 2;stroke-width:1.5px;vector-effect:non-scaling-stroke;
y:3px;width:3px;height:18px}rect.vx.e{stroke:var(--mute)}
figure.hs{margin:.3em 0}figure.hs figcaption{color:var(--mute);font-size:12px}
.age{stroke:var(--mute);stroke-width:1px;vector-effect:non-scaling-stroke;stroke-dasharray:3 2;fill:none}
.cal{font-size:11px;margin:.5em 0}.cal th,.cal td{border:1px solid var(--bg);padding:0 .15em;text-align:center}
.cal thead th{color:var(--mute);font-weight:400}.cal tbody th{text-align:left;font-weight:400;padding-right:.6em;
white-space:nowrap;max-width:22em;overflow:hidden;text-overflow:ellipsis}
.cal td{min-width:1.5em;background:color-mix(in srgb,var(--ok) 25%,var(--bg));color:var(--ok)}
.cal td.missing{background:var(--gap);color:var(--critical);font-weight:700}
.cal td.progress{background:var(--open);color:var(--prog)}.cal td.failed{background:var(--gap);color:var(--critical)}
.cal td.open,.cal td.absent,.cal td.expired{background:var(--open);color:var(--mute)}
.cal td.unknown{background:color-mix(in srgb,var(--error) 12%,var(--bg));color:var(--error);font-weight:700}
.wide{overflow-x:auto}
details>summary{cursor:pointer;margin:.6em 0;font-weight:600}
.bk{font-size:12px;margin:.3em 0}.bk td,.bk th{padding:0 .6em 0 0;text-align:left}
#filter-slot input,#filter-slot select{font:inherit;padding:.25em .5em;margin:.3em .5em .3em 0;color:var(--fg);
background:var(--bg);border:1px solid var(--line);border-radius:.3em}#filter-slot input{width:min(28rem,100%)}
[hidden]{display:none!important}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
@media print{body{max-width:none;padding:0;font-size:9pt}#filter-slot{display:none}th button{text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
details::details-content{content-visibility:visible;display:block}
section.cl{break-inside:avoid}.cal tr{break-inside:avoid}h2,.legend,svg.ax{break-after:avoid}a{text-decoration:none}}
]]

M.JS = [[
(function(){"use strict";var d=document,each=function(l,f){Array.prototype.forEach.call(l,f)};
d.documentElement.classList.add("js");
each(d.querySelectorAll("table.sortable"),function(t){if(!t.tHead||!t.tBodies[0])return;
var hs=t.tHead.rows[0].cells;each(hs,function(h,i){var b=d.createElement("button"),asc=false;
b.type="button";b.textContent=h.textContent;h.textContent="";h.appendChild(b);
b.addEventListener("click",function(){var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);asc=!asc;
rows.sort(function(x,y){var p=x.cells[i].getAttribute("data-sort")||x.cells[i].textContent,
q=y.cells[i].getAttribute("data-sort")||y.cells[i].textContent,n=p.localeCompare(q,undefined,{numeric:true});
return asc?n:-n});rows.forEach(function(r){body.appendChild(r)});each(hs,function(o){o.removeAttribute("aria-sort")});
h.setAttribute("aria-sort",asc?"ascending":"descending")})})});
var slot=d.getElementById("filter-slot");
if(slot){var inp=d.createElement("input"),sel=d.createElement("select"),items=d.querySelectorAll(".fi"),texts=[],
add=function(v,l){var o=d.createElement("option");o.value=v;o.textContent=l;sel.appendChild(o)};
inp.type="search";inp.placeholder="Filter by text";inp.setAttribute("aria-label","Filter by text");
sel.setAttribute("aria-label","Filter by status");add("","every status");
each((slot.getAttribute("data-statuses")||"").split(" "),function(s){if(s)add(s,s)});
slot.appendChild(inp);slot.appendChild(sel);each(items,function(e,i){texts[i]=e.textContent.toLowerCase()});
var apply=function(){var q=inp.value.toLowerCase(),s=sel.value;each(items,function(e,i){
var st=e.getAttribute("data-status");
e.hidden=(q!==""&&texts[i].indexOf(q)<0)||(s!==""&&st!==null&&st!==s)});
if(q!==""||s!=="")each(d.querySelectorAll("details.many"),function(x){x.open=true})};
inp.addEventListener("input",apply);sel.addEventListener("change",apply)}
window.addEventListener("beforeprint",function(){each(d.querySelectorAll("details"),function(x){x.open=true})});
})();
]]

return M
