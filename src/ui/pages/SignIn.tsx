/** Sign in with a signing key: checked against the service, then kept for this tab only. */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, verifyKey } from "../api.js";

export function SignInPage(props: { readonly notice: string | undefined; readonly onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = "Sign in · cancelkit";
    input.current?.focus();
  }, []);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const value = key.trim();
    if (value === "") {
      setError("Enter a signing key.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await verifyKey(value);
      props.onSignedIn(value);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) setError(`Wrong signing key: the service answered "${failure.message}".`);
      else setError(`Could not reach the service: ${failure instanceof Error ? failure.message : String(failure)}`);
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="narrow">
      <h1>Sign in</h1>
      <p>
        Bulk cancellation of workflow runs. Sign in with a signing key of your environment (<code>npm start</code> prints a development key).
        The key stays in this tab only and is sent as the <code>Authorization: Bearer</code> header of every call.
      </p>
      {props.notice !== undefined && (
        <p class="notice" role="status">
          {props.notice}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <label for="signing-key">Signing key</label>
        <input
          ref={input}
          id="signing-key"
          name="signing-key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          data-testid="key-input"
          value={key}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? "signing-key-error" : undefined}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        {error !== undefined && (
          <p id="signing-key-error" class="error" role="alert" data-testid="key-error">
            {error}
          </p>
        )}
        <div class="actions">
          <button type="submit" class="primary" data-testid="key-submit" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
        </div>
      </form>
    </section>
  );
}
