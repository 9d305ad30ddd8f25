/** Hooks shared by pages: node reads with loading / error states, the live feed, the clock, identities. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { IdentityFile } from '../keystore.ts';
import type { FeedState } from './chainFeed.ts';
import { IDENTITIES_CHANGED, useServices } from './services.ts';

export type QueryState<T> =
  | { readonly status: 'loading'; readonly data?: undefined; readonly error?: undefined }
  | { readonly status: 'error'; readonly error: unknown; readonly data?: T }
  | { readonly status: 'ok'; readonly data: T; readonly error?: undefined };

export interface Query<T> {
  readonly state: QueryState<T>;
  /** True while a reload runs with older data still shown. */
  readonly refreshing: boolean;
  reload(): void;
}

/**
 * Runs `load` when `deps` change (aborting the previous run), and again on every new block when `live`.
 * A reload keeps showing the previous data until the new data arrives, so live pages do not flicker.
 */
export function useQuery<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], options: { live?: boolean } = {}): Query<T> {
  const [state, setState] = useState<QueryState<T>>({ status: 'loading' });
  const [refreshing, setRefreshing] = useState(false);
  const [tick, setTick] = useState(0);
  const head = useFeed().head?.hash;
  const liveKey = options.live === true ? head : undefined;
  const loadRef = useRef(load);
  loadRef.current = load;
  const depsKey = JSON.stringify(deps);
  const lastDeps = useRef(depsKey);

  useEffect(() => {
    const controller = new AbortController();
    const sameSubject = lastDeps.current === depsKey;
    lastDeps.current = depsKey;
    if (!sameSubject) setState({ status: 'loading' });
    setRefreshing(true);
    loadRef.current(controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        setState({ status: 'ok', data });
        setRefreshing(false);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        // A failed background refresh keeps the data on screen and says so.
        setState((previous) => ({ status: 'error', error, data: sameSubject ? previous.data : undefined }));
        setRefreshing(false);
      },
    );
    return () => controller.abort();
  }, [depsKey, liveKey, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { state, refreshing, reload };
}

/** The live chain status; re-renders when it changes. */
export function useFeed(): FeedState {
  const { feed } = useServices();
  const [state, setState] = useState(feed.state);
  useEffect(() => {
    setState(feed.state);
    return feed.subscribe(setState);
  }, [feed]);
  return state;
}

/** The current time, updated every `everyMs` (for "12 s ago"). */
export function useNow(everyMs = 5_000): number {
  const { now } = useServices();
  const [time, setTime] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setTime(now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, now]);
  return time;
}

export interface IdentitiesView {
  readonly files: readonly IdentityFile[];
  readonly unreadable: readonly { readonly index: number; readonly problem: string }[];
  readonly unlocked: readonly string[];
  /** Why the stored list could not be read at all. */
  readonly error?: unknown;
}

/** The identities stored in this browser and which are unlocked; re-renders when either changes (other tabs too). */
export function useIdentities(): IdentitiesView {
  const { identities, session, changes } = useServices();
  const read = useCallback((): IdentitiesView => {
    try {
      const list = identities.list();
      return { files: list.identities, unreadable: list.unreadable, unlocked: session.unlocked };
    } catch (error) {
      return { files: [], unreadable: [], unlocked: session.unlocked, error };
    }
  }, [identities, session]);
  const [view, setView] = useState(read);
  useEffect(() => {
    const update = (): void => setView(read());
    changes.addEventListener(IDENTITIES_CHANGED, update);
    addEventListener('storage', update);
    return () => {
      changes.removeEventListener(IDENTITIES_CHANGED, update);
      removeEventListener('storage', update);
    };
  }, [changes, read]);
  return view;
}

/** A number that goes up whenever the chain reports activity for `account` (use it in a query's deps). */
export function useAccountActivity(account: string | undefined): number {
  const { feed } = useServices();
  const [count, setCount] = useState(0);
  useEffect(() => {
    if (account === undefined) return undefined;
    return feed.watchAccount(account, () => setCount((c) => c + 1));
  }, [feed, account]);
  return count;
}
