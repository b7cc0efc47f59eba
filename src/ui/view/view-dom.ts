// The slice of the browser the view touches, typed here rather than through TypeScript's DOM library
// (which would leak browser globals into the server's compile). It has no innerHTML, outerHTML,
// insertAdjacentHTML or document.write, createElement makes only inert tags, and setAttribute takes only
// names that cannot run code or load anything — so the compiler refuses any way into the page but text.

export type ViewTag =
  | "div"
  | "span"
  | "button"
  | "section"
  | "header"
  | "footer"
  | "nav"
  | "h1"
  | "h2"
  | "p"
  | "ul"
  | "li"
  | "dl"
  | "dt"
  | "dd"
  | "strong"
  | "code"
  | "pre"
  | "table"
  | "tbody"
  | "tr"
  | "th"
  | "td";

export type SafeAttribute =
  | "role"
  | "title"
  | "tabindex"
  | "type"
  | "disabled"
  | "aria-label"
  | "aria-level"
  | "aria-expanded"
  | "aria-selected"
  | "aria-hidden"
  | "aria-live"
  | "aria-busy"
  | "aria-current";

export interface ViewEvent {
  readonly key?: string;
  readonly clientX?: number;
  readonly clientY?: number;
  preventDefault(): void;
  stopPropagation(): void;
}

export interface ViewElement {
  textContent: string | null;
  className: string;
  hidden: boolean;
  readonly classList: { add(...tokens: string[]): void; remove(...tokens: string[]): void; toggle(token: string, force?: boolean): boolean; contains(token: string): boolean };
  readonly style: { setProperty(name: string, value: string): void; removeProperty(name: string): string };
  readonly dataset: Record<string, string | undefined>;
  readonly scrollHeight: number;
  setAttribute(name: SafeAttribute, value: string): void;
  removeAttribute(name: SafeAttribute): void;
  append(...children: Array<ViewElement | string>): void;
  replaceChildren(...children: Array<ViewElement | string>): void;
  addEventListener(type: "click" | "dblclick" | "keydown" | "mousemove" | "mouseleave", listener: (event: ViewEvent) => void): void;
  focus(): void;
  getBoundingClientRect(): { left: number; top: number; right: number; bottom: number; width: number; height: number };
  scrollIntoView(options?: { block?: "nearest" | "center" | "start" }): void;
}

export interface ViewDocument {
  readonly documentElement: ViewElement;
  readonly body: ViewElement;
  createElement(tag: ViewTag): ViewElement;
  getElementById(id: string): ViewElement | null;
  addEventListener(type: "keydown", listener: (event: ViewEvent) => void): void;
}

export interface ViewWindow {
  readonly parent: { postMessage(message: unknown, targetOrigin: string): void };
  readonly innerWidth: number;
  readonly innerHeight: number;
  addEventListener(type: "message", listener: (event: { data: unknown; source: unknown }) => void): void;
  requestAnimationFrame(callback: () => void): number;
}

export interface ResizeObserverLike {
  observe(target: ViewElement): void;
}

/** The page's globals, seen through the slice above. */
export interface ViewGlobals {
  window: ViewWindow;
  document: ViewDocument;
  ResizeObserver?: new (callback: () => void) => ResizeObserverLike;
}

/** Places an element on a row's axis: from `left`, `width` wide, both in percent. */
export function place(e: ViewElement, left: number, width?: number): ViewElement {
  e.style.setProperty("left", `${left}%`);
  if (width !== undefined) e.style.setProperty("width", `${width}%`);
  return e;
}

/** An element with classes and text children: the one way the view builds its page. */
export function el(doc: ViewDocument, tag: ViewTag, className = "", ...children: Array<ViewElement | string>): ViewElement {
  const e = doc.createElement(tag);
  if (className) e.className = className;
  if (children.length) e.append(...children);
  return e;
}
