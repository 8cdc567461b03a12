// The types of bundle.js, for the TypeScript that imports it (vitest.setup.ts).
export declare const root: string;
export declare const outdir: string;
/** Builds the Node bundles when a source is newer; resolves to each entry's bundle path. */
export declare function ensureBundle(): Promise<{ cli: string; vcpuWorker: string }>;
