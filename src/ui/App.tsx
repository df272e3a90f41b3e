/**
 * The UI's shell: sign-in gate, header navigation and the page of the current hash route.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { setUnauthorizedHandler, storeKey, storedKey } from "./api.js";
import { CreatePage } from "./pages/Create.js";
import { DetailPage } from "./pages/Detail.js";
import { FunctionsPage } from "./pages/Functions.js";
import { HistoryPage } from "./pages/History.js";
import { SignInPage } from "./pages/SignIn.js";
import { href, useRoute } from "./router.js";

function Shell(props: { readonly signedIn: boolean; readonly current: string; readonly onSignOut: () => void; readonly children: ComponentChildren }) {
  const link = (target: string, label: string, testId?: string) => (
    <a href={target} aria-current={props.current === target ? "page" : undefined} data-testid={testId}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); document.getElementById("main")?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">cancelkit</span>
        {props.signedIn && (
          <nav aria-label="Main">
            {link(href([]), "Functions")}
            {link(href(["new"]), "New cancellation", "new-cancellation")}
            {link(href(["history"]), "History")}
            <button type="button" class="link" onClick={props.onSignOut}>
              Sign out
            </button>
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}

export function App() {
  const [key, setKey] = useState(storedKey);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      storeKey(undefined);
      setKey(undefined);
      setNotice("The service no longer accepts this signing key: sign in again.");
    });
  }, []);
  const signOut = (): void => {
    storeKey(undefined);
    setKey(undefined);
    setNotice(undefined);
  };
  const [first, second] = route.path;
  const current = first === undefined ? href([]) : href([first]);
  let page: ComponentChildren;
  if (key === undefined) {
    page = (
      <SignInPage
        notice={notice}
        onSignedIn={(value) => {
          storeKey(value);
          setKey(value);
          setNotice(undefined);
        }}
      />
    );
  } else if (first === undefined) page = <FunctionsPage />;
  else if (first === "new") page = <CreatePage query={route.query} />;
  else if (first === "history") page = <HistoryPage key={`${route.query.get("app") ?? ""}\u0000${route.query.get("function") ?? ""}`} query={route.query} />;
  else if (first === "cancellations" && second !== undefined) page = <DetailPage key={second} id={second} />;
  else
    page = (
      <section>
        <h1>Page not found</h1>
        <p>
          There is no page at this address. <a href={href([])}>See the functions</a>.
        </p>
      </section>
    );
  return (
    <Shell signedIn={key !== undefined} current={current} onSignOut={signOut}>
      {page}
    </Shell>
  );
}
