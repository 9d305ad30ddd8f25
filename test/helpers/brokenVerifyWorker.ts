/** A verify worker that fails as it loads (a missing module, a bad build). */
throw new Error('verify worker failed to load (test)');
