/** Resolves a search and goes to what it found; lists several accounts when a fingerprint matches more than one. */
import { useEffect } from 'preact/hooks';
import { AccountLink } from '../../components/links.tsx';
import { SearchBox } from '../../components/SearchBox.tsx';
import { Empty, QueryView } from '../../components/states.tsx';
import { Page, Section } from '../../components/ui.tsx';
import { useIdentities, useQuery } from '../../lib/hooks.ts';
import { navigate } from '../../lib/router.tsx';
import { resolveSearch } from '../../lib/search.ts';
import { useServices } from '../../lib/services.ts';

export function SearchPage({ query: text }: { query: string }) {
  const { rpc } = useServices();
  const { files } = useIdentities();
  const known = files.map((f) => ({ id: f.publicKey, seen: `your identity "${f.label}"` }));
  const query = useQuery((signal) => resolveSearch(rpc, text, known, signal), [text]);
  const state = query.state;
  useEffect(() => {
    if (state.status === 'ok' && 'found' in state.data) navigate(state.data.found, true);
  }, [state]);
  return (
    <Page title="Search">
      <SearchBox initial={text} />
      <QueryView query={query} loading="Searching…">
        {(outcome) =>
          'found' in outcome ? null : 'accounts' in outcome ? (
            <Section title="Several accounts have that fingerprint">
              <p class="muted">A fingerprint is the start of an account key. Check the full key before you trust one of these.</p>
              <ul class="rows">
                {outcome.accounts.map((a) => (
                  <li class="row" key={a.id}>
                    <div class="row-main">
                      <AccountLink id={a.id} />
                      <span class="row-detail">{a.seen}</span>
                    </div>
                  </li>
                ))}
              </ul>
            </Section>
          ) : (
            <Empty title="Nothing found">
              <p>{outcome.nothing}</p>
            </Empty>
          )
        }
      </QueryView>
    </Page>
  );
}
