// Icons, drawn as inline SVG from lucide's icon data (bundled from npm): nothing depends
// on a font or a file from elsewhere, and each icon follows the text colour.
//
// Two vocabularies meet here: the chat's own controls (icon("menu")), and the names
// ChatKit widgets use (`WidgetIcon` in @openai/chatkit's types and chatkit.widgets), each
// mapped to the closest lucide drawing.

import {
  createElement,
  ArrowUp, Atom, Award, Book, BookOpen, BookText, Bot, Box, Briefcase, Bug, Calendar,
  ChartColumn, ChartLine, Check, ChevronLeft, ChevronRight, Circle, CircleCheck, CircleQuestionMark,
  CircleUser, Clock, Compass, Contact, Copy, Dot, Ellipsis, EllipsisVertical, ExternalLink, File,
  FileText, FlaskConical, Globe, IdCard, Image as ImageIcon, Images, Info, KeyRound, Layers, LifeBuoy,
  Lightbulb, Mail, Map as MapIcon, MapPin, Menu, Mic, Monitor, Notebook, NotebookPen, PartyPopper,
  Pencil, PenLine, Phone, Play, Plus, RotateCcw, RotateCw, Search, SlidersHorizontal, Smartphone,
  Sparkle, Sparkles, Square, SquareCode, SquarePen, SquareText, Star, ThumbsUp, Trash, User, X, Zap,
} from "lucide";

/** The chat's own controls. */
const UI = {
  plus: Plus, menu: Menu, close: X, copy: Copy, retry: RotateCcw, pencil: Pencil, trash: Trash,
  up: ThumbsUp, stop: Square, send: ArrowUp, mic: Mic,
};

/** ChatKit's WidgetIcon names -> lucide. */
export const WIDGET_ICONS = {
  agent: Bot, analytics: ChartLine, atom: Atom, batch: Layers, bolt: Zap, "book-open": BookOpen,
  "book-closed": Book, "book-clock": BookText, bug: Bug, calendar: Calendar, chart: ChartColumn,
  check: Check, "check-circle": CircleCheck, "check-circle-filled": CircleCheck,
  "chevron-left": ChevronLeft, "chevron-right": ChevronRight, "circle-question": CircleQuestionMark,
  clock: Clock, compass: Compass, confetti: PartyPopper, cube: Box, desktop: Monitor,
  document: FileText, dot: Dot, "dots-horizontal": Ellipsis, "dots-vertical": EllipsisVertical,
  "empty-circle": Circle, "external-link": ExternalLink, globe: Globe, keys: KeyRound,
  lab: FlaskConical, images: Images, info: Info, lifesaver: LifeBuoy, lightbulb: Lightbulb,
  mail: Mail, "map-pin": MapPin, maps: MapIcon, mobile: Smartphone, name: IdCard,
  notebook: Notebook, "notebook-pencil": NotebookPen, "page-blank": File, phone: Phone, play: Play,
  plus: Plus, profile: CircleUser, "profile-card": Contact, reload: RotateCw, star: Star,
  "star-filled": Star, search: Search, sparkle: Sparkle, "sparkle-double": Sparkles,
  "square-code": SquareCode, "square-image": ImageIcon, "square-text": SquareText,
  suitcase: Briefcase, "settings-slider": SlidersHorizontal, user: User, wreath: Award,
  write: Pencil, "write-alt": PenLine, "write-alt2": SquarePen,
};


function svg(node, size) {
  const el = createElement(node, { width: size, height: size, "aria-hidden": "true", class: "ck-svg" });
  el.setAttribute("focusable", "false");
  return el;
}

/** An <svg> for one of the chat's controls; `down` is the thumbs-up turned over. */
export function icon(name, size = 16) {
  const el = svg(UI[name === "down" ? "up" : name] || Plus, size);
  if (name === "down") el.style.transform = "rotate(180deg)";
  return el;
}

/** An <svg> for a widget's icon name, or null for a name ChatKit does not define. */
export function widgetIcon(name, size = 16) {
  const node = WIDGET_ICONS[name];
  if (!node) return null;
  const el = svg(node, size);
  el.dataset.icon = name;
  if (name === "star-filled") el.setAttribute("fill", "currentColor");
  if (name === "check-circle-filled") {
    // A filled disc with the tick cut out in the background colour.
    el.firstElementChild.setAttribute("fill", "currentColor");
    el.lastElementChild.setAttribute("stroke", "var(--ck-bg, #fff)");
  }
  return el;
}
