/** The explorer's one search box. */
import { useState } from 'preact/hooks';
import { navigate } from '../lib/router.tsx';

export function SearchBox({ initial = '', autoFocus = false }: { initial?: string; autoFocus?: boolean }) {
  const [text, setText] = useState(initial);
  const submit = (event: Event): void => {
    event.preventDefault();
    if (text.trim() !== '') navigate({ page: 'search', query: text.trim() });
  };
  return (
    <form class="search" role="search" onSubmit={submit}>
      <label class="visually-hidden" for="explorer-search">
        Search the chain
      </label>
      <input
        id="explorer-search"
        class="input search-input"
        type="search"
        name="q"
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        placeholder="Block height, hash, transaction, account key or fingerprint"
        autoComplete="off"
        spellcheck={false}
        autoFocus={autoFocus}
        maxLength={200}
      />
      <button type="submit" class="button primary">
        Search
      </button>
    </form>
  );
}
