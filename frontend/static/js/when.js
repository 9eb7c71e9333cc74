// Shows each <time class="when" datetime="epoch seconds"> in the reader's own time zone.

for (const el of document.querySelectorAll("time.when")) {
  const seconds = Number(el.getAttribute("datetime"));
  if (!Number.isFinite(seconds)) continue;
  const date = new Date(seconds * 1000);
  el.setAttribute("datetime", date.toISOString());
  el.textContent = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}
