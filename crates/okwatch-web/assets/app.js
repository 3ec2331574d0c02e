// okwatch console: keyboard shortcuts and copying. Everything works without it.
"use strict";
document.addEventListener("keydown", (event) => {
  const form = document.getElementById("search");
  // Ctrl+Enter (Cmd+Enter on a Mac) runs the search from any field.
  if (form && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
    return;
  }
  // "/" jumps to the filter box, as in most log tools.
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName);
  if (event.key === "/" && !typing) {
    const filter = document.getElementById("filter");
    if (filter) {
      event.preventDefault();
      filter.focus();
    }
  }
});
// A menu marked data-submit-on-change (an org, a period) shows its choice at once. A
// listener here, not an inline handler: the Content-Security-Policy allows no inline script.
document.addEventListener("change", (event) => {
  const menu = event.target.closest("select[data-submit-on-change]");
  if (menu && menu.form) menu.form.requestSubmit();
});
// A preset chosen in the time menu searches at once.
document.addEventListener("change", (event) => {
  if (event.target.id === "since" && event.target.form) {
    // A preset is a range up to now: the end of a zoomed-in range no longer applies.
    const until = event.target.form.querySelector("input[name=until]");
    if (until && !event.target.selectedOptions[0].textContent.startsWith("From")) until.remove();
    event.target.form.requestSubmit();
  }
});
// Enter in the one-line filter box searches; Shift+Enter adds a line.
document.addEventListener("keydown", (event) => {
  if (event.target.id === "filter" && event.key === "Enter" && !event.shiftKey && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
});
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const text = document.getElementById(button.dataset.copy).textContent;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById(button.dataset.copy));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});

// Times in the chosen time zone. The server writes UTC in <time datetime>; the browser knows
// every zone's rules, so it shows each time in the zone the person chose, and says the offset.
const zoneHolder = document.querySelector("[data-tz]");
const zone = zoneHolder ? zoneHolder.dataset.tz : "UTC";

function offsetOf(timeZone, date) {
  try {
    const part = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "longOffset" })
      .formatToParts(date).find((p) => p.type === "timeZoneName");
    const text = part ? part.value.replace("GMT", "UTC") : "UTC";
    return text === "UTC" ? "UTC+00:00" : text;
  } catch (_) {
    return null;
  }
}

function inZone(date, timeZone) {
  const parts = {};
  for (const p of new Intl.DateTimeFormat("en-CA", {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit", fractionalSecondDigits: 3, hourCycle: "h23",
  }).formatToParts(date)) parts[p.type] = p.value;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}.${parts.fractionalSecond}`;
}

function showTimes(root) {
  if (zone === "UTC" || !offsetOf(zone, new Date())) return;
  for (const time of root.querySelectorAll("time[datetime]")) {
    const date = new Date(time.getAttribute("datetime"));
    if (Number.isNaN(date.getTime())) continue;
    time.textContent = inZone(date, zone);
    time.title = `${time.getAttribute("datetime")} (UTC); ${offsetOf(zone, date)} here`;
  }
}

if (zone !== "UTC" && offsetOf(zone, new Date())) {
  showTimes(document);
  const heading = document.querySelector(".time-heading");
  if (heading) heading.textContent = `Time (${zone}, ${offsetOf(zone, new Date())})`;
}

// The zone menu lists every zone the browser knows, each with its offset now.
const zoneMenu = document.getElementById("tz");
if (zoneMenu && Intl.supportedValuesOf) {
  const now = new Date();
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const current = zoneMenu.dataset.current;
  zoneMenu.textContent = "";
  const add = (value, label) => {
    const option = new Option(label, value, false, value === current);
    zoneMenu.add(option);
  };
  add("UTC", "UTC (UTC+00:00)");
  if (local && local !== "UTC") add(local, `This browser's: ${local} (${offsetOf(local, now)})`);
  for (const name of Intl.supportedValuesOf("timeZone")) {
    if (name !== "UTC") add(name, `${name.replaceAll("_", " ")} (${offsetOf(name, now)})`);
  }
}

// Live tail: new matching events appear on top as they are stored. Scrolled down, the person
// is reading: new rows wait, counted, until they come back to the top.
const live = document.getElementById("live");
if (live) {
  const rows = document.getElementById("rows");
  const status = document.getElementById("live-status");
  const MAX_ROWS = 500;
  let timer = null;
  let waiting = [];
  const known = (uuid) => rows.querySelector(`tr[data-uuid="${CSS.escape(uuid)}"]`)
    || waiting.some((tr) => tr.dataset.uuid === uuid);
  const newest = () => {
    const time = rows.querySelector("tr time[datetime]");
    return time ? time.getAttribute("datetime") : null;
  };
  const show = () => {
    if (window.scrollY > 80) {
      if (waiting.length) status.textContent = `${waiting.length} new, shown when you scroll back to the top`;
      return;
    }
    const first = rows.firstElementChild;
    for (const tr of waiting) {
      tr.classList.add("new");
      rows.insertBefore(tr, first);
    }
    if (waiting.length) status.textContent = `${waiting.length} new at ${new Date().toLocaleTimeString()}`;
    waiting = [];
    while (rows.children.length > MAX_ROWS) rows.lastElementChild.remove();
    const empty = document.querySelector("p.empty");
    if (empty && rows.children.length) empty.remove();
  };
  const poll = async () => {
    timer = null;
    if (live.getAttribute("aria-pressed") !== "true") return;
    if (!document.hidden) {
      const params = new URLSearchParams(live.dataset.search);
      const since = newest();
      if (since) params.set("since", since);
      params.delete("until");
      try {
        const reply = await fetch(`/rows?${params}`, { credentials: "same-origin" });
        if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
        const fragment = document.createElement("template");
        fragment.innerHTML = await reply.text();
        showTimes(fragment.content);
        const fresh = [...fragment.content.querySelectorAll("tr[data-uuid]")]
          .filter((tr) => !known(tr.dataset.uuid));
        waiting = fresh.concat(waiting);
        show();
      } catch (error) {
        status.textContent = `Live paused: ${error.message}`;
        live.setAttribute("aria-pressed", "false");
        return;
      }
    }
    timer = setTimeout(poll, 2000);
  };
  live.addEventListener("click", () => {
    const on = live.getAttribute("aria-pressed") !== "true";
    live.setAttribute("aria-pressed", String(on));
    status.textContent = on ? "Live: new events appear on top" : "Live off";
    if (on && !timer) poll();
  });
  window.addEventListener("scroll", () => { if (window.scrollY <= 80 && waiting.length) show(); });
}
// A schedule's form shows only the fields its cadence uses; a new schedule starts in the
// browser's own time zone.
for (const form of document.querySelectorAll("form.schedule-form")) {
  const every = form.querySelector("select[name=every]");
  const show = () => {
    const kind = every.value;
    const visible = {
      "when-weekly": kind === "weekly",
      "when-monthly": kind === "monthly",
      "when-time": kind !== "cron",
      "when-cron": kind === "cron",
    };
    for (const [cls, on] of Object.entries(visible)) {
      for (const el of form.getElementsByClassName(cls)) el.hidden = !on;
    }
  };
  every.addEventListener("change", show);
  show();
  const zone = form.querySelector("input[data-local-zone]");
  const fresh = form.getAttribute("action") === "/reports/schedules";
  if (zone && fresh && zone.value === "UTC") {
    try { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (_) { /* keep UTC */ }
  }
}
// A CSV file chosen for import is read into the box below it, so the form posts plain text
// (and the person sees what will be imported).
for (const input of document.querySelectorAll("input[type=file][data-into]")) {
  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (file) document.getElementById(input.dataset.into).value = await file.text();
  });
}
// The search box at the top of every page: suggestions as one types (apps and people), arrows
// to move through them, Enter to open one (or, with none chosen, the /find page), Escape to
// close; Ctrl+K (Cmd+K) from anywhere puts the cursor in it.
(() => {
  const box = document.getElementById("find");
  const list = document.getElementById("find-list");
  if (!box || !list) return;
  let active = -1;
  let asked = 0;
  const items = () => Array.from(list.children);
  const close = () => {
    list.hidden = true;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const mark = (index) => {
    const all = items();
    active = Math.max(-1, Math.min(index, all.length - 1));
    all.forEach((li, i) => li.setAttribute("aria-selected", i === active ? "true" : "false"));
    if (active >= 0) box.setAttribute("aria-activedescendant", all[active].id);
  };
  const show = (matches) => {
    list.replaceChildren(...matches.map((m, i) => {
      const li = document.createElement("li");
      li.id = `find-${i}`;
      li.setAttribute("role", "option");
      li.dataset.href = m.href;
      const a = document.createElement("a");
      a.href = m.href;
      a.tabIndex = -1;
      const title = document.createElement("strong");
      title.textContent = m.title;
      const detail = document.createElement("span");
      detail.className = "muted";
      detail.textContent = ` ${m.detail} · ${m.kind === "app" ? "app" : "person"} · ${m.org}`;
      a.append(title, detail);
      li.append(a);
      return li;
    }));
    list.hidden = matches.length === 0;
    box.setAttribute("aria-expanded", matches.length ? "true" : "false");
    mark(-1);
  };
  let timer;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    const q = box.value.trim();
    if (!q) return close();
    timer = setTimeout(async () => {
      const mine = ++asked;
      try {
        const reply = await fetch(`/find/suggest?q=${encodeURIComponent(q)}`, { headers: { Accept: "application/json" } });
        if (!reply.ok || mine !== asked) return;
        show((await reply.json()).matches || []);
      } catch (_) { /* the form still works without suggestions */ }
    }, 120);
  });
  box.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && !list.hidden) { event.preventDefault(); mark(active + 1); }
    else if (event.key === "ArrowUp" && !list.hidden) { event.preventDefault(); mark(active - 1); }
    // Escape closes the suggestions (and only then clears the box, as a search box does).
    else if (event.key === "Escape" && !list.hidden) { event.preventDefault(); close(); }
    else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      window.location.href = items()[active].dataset.href;
    }
  });
  box.addEventListener("blur", () => setTimeout(close, 150));
  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() === "k" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
