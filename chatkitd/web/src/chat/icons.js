// Inline SVG icons: drawn here so nothing depends on fonts or files from elsewhere
// (emoji and symbol glyphs are missing on many servers and kiosks).

const PATHS = {
  plus: "M12 5v14M5 12h14",
  menu: "M4 6h16M4 12h16M4 18h16",
  close: "M6 6l12 12M18 6L6 18",
  copy: "M9 9h11v11H9zM5 15H4V4h11v1",
  retry: "M20 12a8 8 0 1 1-2.4-5.7M20 4v5h-5",
  pencil: "M4 20h4L19 9l-4-4L4 16v4z",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  up: "M7 11v9H4v-9zM7 11l4-8c1.2 0 2 .9 2 2v4h5.5a2 2 0 0 1 2 2.3l-1.2 6.9a2 2 0 0 1-2 1.8H7",
  stop: "M7 7h10v10H7z",
  send: "M5 12h14M13 6l6 6-6 6",
};

/** An <svg> icon; `down` is the thumbs-up turned over. */
export function icon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("fill", "none");
  svg.setAttribute("stroke", "currentColor");
  svg.setAttribute("stroke-width", "2");
  svg.setAttribute("stroke-linecap", "round");
  svg.setAttribute("stroke-linejoin", "round");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("ck-svg");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", PATHS[name === "down" ? "up" : name] || PATHS.plus);
  if (name === "down") path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}
