/** Sets the document title of a page and moves focus to its heading, as a screen reader expects on a page change. */
import { useEffect, useRef } from "preact/hooks";

export function usePageHeading(title: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · cancelkit`;
  }, [title]);
  useEffect(() => {
    // Only when the page opens, not on every title change.
    ref.current?.focus({ preventScroll: false });
  }, []);
  return ref;
}
