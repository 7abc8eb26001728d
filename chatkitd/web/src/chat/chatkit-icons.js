// ChatKit.js's icon names (ChatKitIcon, WidgetIcon and HeaderIcon in @openai/chatkit's
// types) drawn with Lucide, the icon set ChatKit itself names (`lucide:<name>`).
//
// Only the icons named here are bundled (each is imported by name, so esbuild keeps
// just those); `lucide:<name>` works for any Lucide icon in this table, by its Lucide
// name. An unknown name draws a neutral dot, and `knownIcon()` says so, so the caller
// can report it once instead of failing.

import {
  Atom, BookOpen, Book, BookOpenText, Bot, Bug, Calendar, ChartColumn, ChartLine, Check, CircleCheck,
  CircleCheckBig, ChevronLeft, ChevronRight, ChevronsLeft, ChevronsRight, CircleHelp, Clock, Compass,
  PartyPopper, Box, Monitor, FileText, Dot, Ellipsis, EllipsisVertical, Circle, ExternalLink, Globe, KeyRound,
  FlaskConical, Images, Info, LifeBuoy, Lightbulb, Mail, MapPin, Map as MapIcon, Smartphone, IdCard,
  Notebook, NotebookPen, File, Phone, Play, Plus, CircleUser, Contact, RotateCcw, Star, Search, Sparkle,
  Sparkles, SquareCode, SquareDashed, SquareChartGantt, Briefcase, SlidersHorizontal, User, Award, Pencil,
  PenLine, SquarePen, Layers, Zap, PanelLeft, PanelRight, PanelLeftOpen, PanelRightOpen, PanelLeftClose,
  PanelRightClose, ArrowLeftToLine, ArrowRightToLine, House, HousePlus, ArrowLeft, Maximize, Minimize,
  Maximize2, Minimize2, MessageCircleDashed, Settings, LayoutGrid, Menu, History, Share, Sun, Moon, X,
  Image, SquareMenu, TextAlignStart, AlignLeft,
} from "lucide";

const LUCIDE = {
  atom: Atom, "book-open": BookOpen, book: Book, "book-open-text": BookOpenText, bot: Bot, bug: Bug,
  calendar: Calendar, "chart-column": ChartColumn, "chart-line": ChartLine, check: Check,
  "circle-check": CircleCheck, "circle-check-big": CircleCheckBig, "chevron-left": ChevronLeft,
  "chevron-right": ChevronRight, "chevrons-left": ChevronsLeft, "chevrons-right": ChevronsRight,
  "circle-help": CircleHelp, clock: Clock, compass: Compass, "party-popper": PartyPopper, box: Box,
  monitor: Monitor, "file-text": FileText, dot: Dot, ellipsis: Ellipsis, "ellipsis-vertical": EllipsisVertical,
  circle: Circle, "external-link": ExternalLink, globe: Globe, "key-round": KeyRound,
  "flask-conical": FlaskConical, images: Images, info: Info, "life-buoy": LifeBuoy, lightbulb: Lightbulb,
  mail: Mail, "map-pin": MapPin, map: MapIcon, smartphone: Smartphone, "id-card": IdCard, notebook: Notebook,
  "notebook-pen": NotebookPen, file: File, phone: Phone, play: Play, plus: Plus, "circle-user": CircleUser,
  contact: Contact, "rotate-ccw": RotateCcw, star: Star, search: Search, sparkle: Sparkle, sparkles: Sparkles,
  "square-code": SquareCode, "square-dashed": SquareDashed, "square-chart-gantt": SquareChartGantt,
  briefcase: Briefcase, "sliders-horizontal": SlidersHorizontal, user: User, award: Award, pencil: Pencil,
  "pen-line": PenLine, "square-pen": SquarePen, layers: Layers, zap: Zap, "panel-left": PanelLeft,
  "panel-right": PanelRight, "panel-left-open": PanelLeftOpen, "panel-right-open": PanelRightOpen,
  "panel-left-close": PanelLeftClose, "panel-right-close": PanelRightClose,
  "arrow-left-to-line": ArrowLeftToLine, "arrow-right-to-line": ArrowRightToLine, house: House,
  "house-plus": HousePlus, "arrow-left": ArrowLeft, maximize: Maximize, minimize: Minimize,
  "maximize-2": Maximize2, "minimize-2": Minimize2, "message-circle-dashed": MessageCircleDashed,
  settings: Settings, "layout-grid": LayoutGrid, menu: Menu, history: History, share: Share, sun: Sun,
  moon: Moon, x: X, image: Image, "square-menu": SquareMenu, "text-align-start": TextAlignStart,
  "align-left": AlignLeft,
};

// ChatKitIcon and WidgetIcon names (the same list), as Lucide names.
const CHATKIT = {
  agent: "bot", analytics: "chart-column", atom: "atom", batch: "layers", bolt: "zap",
  "book-open": "book-open", "book-closed": "book", "book-clock": "book-open-text", bug: "bug",
  calendar: "calendar", chart: "chart-line", check: "check", "check-circle": "circle-check",
  "check-circle-filled": "circle-check-big", "chevron-left": "chevron-left", "chevron-right": "chevron-right",
  "circle-question": "circle-help", clock: "clock", compass: "compass", confetti: "party-popper", cube: "box",
  desktop: "monitor", document: "file-text", dot: "dot", "dots-horizontal": "ellipsis",
  "dots-vertical": "ellipsis-vertical", "empty-circle": "circle", "external-link": "external-link",
  globe: "globe", keys: "key-round", lab: "flask-conical", images: "images", info: "info",
  lifesaver: "life-buoy", lightbulb: "lightbulb", mail: "mail", "map-pin": "map-pin", maps: "map",
  mobile: "smartphone", name: "id-card", notebook: "notebook", "notebook-pencil": "notebook-pen",
  "page-blank": "file", phone: "phone", play: "play", plus: "plus", profile: "circle-user",
  "profile-card": "contact", reload: "rotate-ccw", star: "star", "star-filled": "star", search: "search",
  sparkle: "sparkle", "sparkle-double": "sparkles", "square-code": "square-code", "square-image": "image",
  "square-text": "square-menu", suitcase: "briefcase", "settings-slider": "sliders-horizontal", user: "user",
  wreath: "award", write: "pencil", "write-alt": "pen-line", "write-alt2": "square-pen",
  // HeaderIcon names
  "sidebar-left": "panel-left", "sidebar-right": "panel-right", "sidebar-open-left": "panel-left-open",
  "sidebar-open-right": "panel-right-open", "sidebar-open-left-alt": "panel-left-open",
  "sidebar-open-right-alt": "panel-right-open", "sidebar-floating-left": "panel-left",
  "sidebar-floating-right": "panel-right", "sidebar-floating-open-left": "panel-left-open",
  "sidebar-floating-open-right": "panel-right-open", "sidebar-collapse-left": "panel-left-close",
  "sidebar-collapse-right": "panel-right-close", "collapse-left": "arrow-left-to-line",
  "collapse-right": "arrow-right-to-line", "open-left": "chevrons-left", "open-right": "chevrons-right",
  "double-chevron-left": "chevrons-left", "double-chevron-right": "chevrons-right", home: "house",
  "home-alt": "house-plus", "back-small": "chevron-left", "back-large": "arrow-left",
  "expand-large": "maximize", "collapse-large": "minimize", "expand-small": "maximize-2",
  "collapse-small": "minimize-2", "chat-temporary": "message-circle-dashed", "settings-cog": "settings",
  grid: "layout-grid", "dots-horizontal-circle": "ellipsis", "dots-vertical-circle": "ellipsis-vertical",
  menu: "menu", "menu-inverted": "align-left", hamburger: "menu", history: "history", compose: "square-pen",
  share: "share", "light-mode": "sun", "dark-mode": "moon", close: "x",
};

const FILLED = new Set(["star-filled", "check-circle-filled"]);

function lucideName(name) {
  if (typeof name !== "string") return null;
  if (name.startsWith("lucide:")) return LUCIDE[name.slice(7)] ? name.slice(7) : null;
  return CHATKIT[name] || null;
}

/** Whether `name` (a ChatKit icon name or `lucide:<name>`) is drawn as itself. */
export function knownIcon(name) {
  return lucideName(name) !== null;
}

/** An <svg> for a ChatKit icon name; a dot for an unknown one. */
export function chatkitIcon(name, size = 16) {
  const node = LUCIDE[lucideName(name) || "dot"];
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  const attrs = {
    viewBox: "0 0 24 24", width: String(size), height: String(size), fill: FILLED.has(name) ? "currentColor" : "none",
    stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round",
    "aria-hidden": "true", class: "ck-svg ck-chatkit-icon", "data-icon": String(name),
  };
  for (const [key, value] of Object.entries(attrs)) svg.setAttribute(key, value);
  for (const [tag, childAttrs] of node) {
    const child = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [key, value] of Object.entries(childAttrs)) child.setAttribute(key, String(value));
    svg.append(child);
  }
  return svg;
}
