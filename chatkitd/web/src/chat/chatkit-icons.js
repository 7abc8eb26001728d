// ChatKit.js's icon names for options: ChatKitIcon (the same list as WidgetIcon, whose
// table is icons.js's), HeaderIcon, and `lucide:<name>` (the icon set ChatKit itself names).
//
// Only the icons named here are bundled (each is imported by name, so esbuild keeps
// just those); `lucide:<name>` works for any Lucide icon in this table, by its Lucide
// name. An unknown name draws a neutral dot, and `knownIcon()` says so, so the caller
// can report it once instead of failing.

import { WIDGET_ICONS, widgetIcon } from "./icons.js";
import {
  createElement,
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

// HeaderIcon names, as Lucide names. ChatKitIcon names are WidgetIcon's, drawn by icons.js.
const HEADER = {
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

function lucideName(name) {
  if (typeof name !== "string") return null;
  if (name.startsWith("lucide:")) return LUCIDE[name.slice(7)] ? name.slice(7) : null;
  return HEADER[name] || null;
}

/** Whether `name` (a ChatKit icon name, a header icon name or `lucide:<name>`) is drawn as itself. */
export function knownIcon(name) {
  return name in WIDGET_ICONS || lucideName(name) !== null;
}

/** An <svg> for a ChatKit icon name; a dot for an unknown one. */
export function chatkitIcon(name, size = 16) {
  const el = (name in WIDGET_ICONS && widgetIcon(name, size)) ||
    createElement(LUCIDE[lucideName(name) || "dot"], { width: size, height: size, "aria-hidden": "true", class: "ck-svg" });
  el.classList.add("ck-chatkit-icon");
  el.dataset.icon = String(name);
  return el;
}
