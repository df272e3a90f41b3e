/**
 * Hash routes (`#/new?app=…`): the service answers one `index.html`, and a reload or a shared link
 * opens the same page.
 */
import { useEffect, useState } from "preact/hooks";

/** A parsed location: its path segments and query. */
export interface Route {
  readonly path: readonly string[];
  readonly query: URLSearchParams;
}

function parse(hash: string): Route {
  const text = hash.replace(/^#\/?/, "");
  const at = text.indexOf("?");
  const path = (at < 0 ? text : text.slice(0, at)).split("/").filter((part) => part !== "").map(decodeURIComponent);
  return { path, query: new URLSearchParams(at < 0 ? "" : text.slice(at + 1)) };
}

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parse(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

/** The `href` of a route. */
export function href(path: readonly string[], query: Readonly<Record<string, string | undefined>> = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== "") params.set(name, value);
  const text = params.toString();
  return `#/${path.map(encodeURIComponent).join("/")}${text === "" ? "" : `?${text}`}`;
}

/** Goes to a route. */
export function navigate(path: readonly string[], query: Readonly<Record<string, string | undefined>> = {}): void {
  location.hash = href(path, query);
}
