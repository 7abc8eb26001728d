// ChatKit.js's `theme` on the chat's root: colour scheme, density and radius as data
// attributes, and the palette (grayscale, accent, surface) and typography as CSS custom
// properties the stylesheet reads. Font sources are loaded with the FontFace API.

const RADIUS_PX = { sharp: "2px", soft: "8px", round: "12px", pill: "22px" };
// Lightness of each grey role, light and dark, before the shade adjustment.
const GREYS = {
  light: { "--ck-bg": 100, "--ck-surface": 97, "--ck-surface-2": 93, "--ck-border": 88, "--ck-text": 10, "--ck-text-2": 34, "--ck-text-3": 48 },
  dark: { "--ck-bg": 9, "--ck-surface": 13, "--ck-surface-2": 17, "--ck-border": 24, "--ck-text": 95, "--ck-text-2": 76, "--ck-text-3": 60 },
};
const PALETTE_VARS = ["--ck-bg", "--ck-surface", "--ck-surface-2", "--ck-border", "--ck-text", "--ck-text-2", "--ck-text-3"];
const loadedFonts = new Set();

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

/** The grey roles for a hue, a tint (0-9: how much of the hue) and a shade (-4..4: darker..lighter). */
function greys(scheme, { hue = 220, tint = 0, shade = 0 }) {
  const saturation = clamp(Number(tint) || 0, 0, 9) * 3;
  const step = clamp(Number(shade) || 0, -4, 4) * (scheme === "dark" ? 1.5 : 1);
  const out = {};
  for (const [name, lightness] of Object.entries(GREYS[scheme])) {
    const isText = name.startsWith("--ck-text");
    out[name] = `hsl(${Number(hue) || 0} ${isText ? saturation / 2 : saturation}% ${clamp(lightness + (isText ? 0 : step), 0, 100)}%)`;
  }
  return out;
}

function loadFonts(sources, onError) {
  if (typeof FontFace === "undefined") return;
  for (const source of sources) {
    if (!source.family || !source.src) continue;
    const key = JSON.stringify(source);
    if (loadedFonts.has(key)) continue;
    loadedFonts.add(key);
    const descriptors = {};
    if (source.weight != null) descriptors.weight = String(source.weight);
    if (source.style) descriptors.style = source.style;
    if (source.display) descriptors.display = source.display;
    if (source.unicodeRange) descriptors.unicodeRange = source.unicodeRange;
    const face = new FontFace(source.family, `url(${JSON.stringify(source.src)})`, descriptors);
    document.fonts.add(face); // fonts in a shadow root come from the document's set
    face.load().catch((error) => onError(source, error));
  }
}

/** Apply a theme read by options.js to the chat's root element. */
export function applyTheme(root, theme, { onFontError = () => {} } = {}) {
  root.dataset.scheme = theme.colorScheme;
  root.dataset.density = theme.density;
  root.dataset.radius = theme.radius;
  const style = root.style;
  style.setProperty("--ck-radius", RADIUS_PX[theme.radius]);
  for (const name of [...PALETTE_VARS, "--ck-accent", "--ck-accent-soft", "--ck-font-mono"]) style.removeProperty(name);
  style.removeProperty("font-family");
  style.removeProperty("font-size");

  if (theme.grayscale) {
    for (const [name, value] of Object.entries(greys(theme.colorScheme, theme.grayscale))) style.setProperty(name, value);
  }
  if (theme.surface && CSS.supports("color", theme.surface.background) && CSS.supports("color", theme.surface.foreground)) {
    const { background: bg, foreground: fg } = theme.surface;
    style.setProperty("--ck-bg", bg);
    style.setProperty("--ck-text", fg);
    style.setProperty("--ck-surface", `color-mix(in srgb, ${fg} 4%, ${bg})`);
    style.setProperty("--ck-surface-2", `color-mix(in srgb, ${fg} 9%, ${bg})`);
    style.setProperty("--ck-border", `color-mix(in srgb, ${fg} 15%, ${bg})`);
    style.setProperty("--ck-text-2", `color-mix(in srgb, ${fg} 75%, ${bg})`);
    style.setProperty("--ck-text-3", `color-mix(in srgb, ${fg} 58%, ${bg})`);
  }
  if (theme.accent && CSS.supports("color", theme.accent.primary)) {
    style.setProperty("--ck-accent", theme.accent.primary);
    // The level (0-3) is how strongly the accent tints surfaces such as the user's messages.
    const level = clamp(Number(theme.accent.level) || 0, 0, 3);
    style.setProperty("--ck-accent-soft", `color-mix(in srgb, ${theme.accent.primary} ${4 + level * 6}%, transparent)`);
  }
  const type = theme.typography;
  if (type.fontFamily) style.setProperty("font-family", type.fontFamily);
  if (type.baseSize) style.setProperty("font-size", `${clamp(type.baseSize, 12, 24)}px`);
  if (type.fontFamilyMono) style.setProperty("--ck-font-mono", type.fontFamilyMono);
  loadFonts(type.fontSources, onFontError);
}
