// The chat's words in the user's language: every string it shows or announces comes from
// chat/locales/<tag>.json through a translator made here.
//
// The locale is the `locale` option when given, else the browser's preferred languages,
// else English; a regional tag falls back to its language ("fr-CA" -> "fr", "zh-Hans" ->
// "zh-CN"). A phrase with a count is an object of plural forms chosen by Intl.PluralRules,
// so Arabic gets its six forms and Japanese its one. Arabic is laid out right to left.

import ar from "./locales/ar.json";
import de from "./locales/de.json";
import en from "./locales/en.json";
import es from "./locales/es.json";
import fr from "./locales/fr.json";
import ja from "./locales/ja.json";
import zhCN from "./locales/zh-CN.json";

export const LOCALES = { en, fr, de, es, ja, "zh-CN": zhCN, ar };
const RTL = new Set(["ar"]);

/** The supported locale closest to `wanted` (a tag or a list of tags), or null. */
function match(wanted) {
  for (const tag of [].concat(wanted || [])) {
    if (typeof tag !== "string" || !tag) continue;
    const lower = tag.toLowerCase();
    const exact = Object.keys(LOCALES).find((l) => l.toLowerCase() === lower);
    if (exact) return exact;
    const language = lower.split(/[-_]/)[0];
    if (language === "zh") return "zh-CN";
    if (LOCALES[language]) return language;
  }
  return null;
}

export { match as matchLocale };

/** The locale the chat uses: the option, else the browser's languages, else English. */
export function resolveLocale(option) {
  return match(option) || match(typeof navigator !== "undefined" ? navigator.languages || [navigator.language] : []) || "en";
}

/** A translator: t(key, {name: value, count: n}) for one locale, falling back to English. */
export function translator(locale = "en") {
  const strings = LOCALES[locale] || en;
  const plurals = new Intl.PluralRules(locale);
  const t = (key, vars = {}) => {
    let phrase = strings[key] ?? en[key] ?? key;
    if (phrase && typeof phrase === "object") phrase = phrase[plurals.select(Number(vars.count ?? 0))] ?? phrase.other;
    return String(phrase).replace(/\{(\w+)\}/g, (whole, name) => (vars[name] != null ? String(vars[name]) : whole));
  };
  t.locale = locale;
  t.dir = RTL.has(locale) ? "rtl" : "ltr";
  return t;
}

/** English, for renderers called without a chat (the admin console). */
export const english = translator("en");
