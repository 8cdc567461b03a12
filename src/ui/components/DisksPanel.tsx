/**
 * The Disks panel: the images in the browser's storage (OPFS disks/ in the hypervisor
 * worker), with their size and what they hold; create one (raw, qcow2, or a qcow2 overlay
 * over another image or a shipped base), upload one (kept only if the image layer opens
 * it), download, delete (refused while attached), and attach one to a running domain
 * (`xl block-attach`). Everything here is also window.hyperlab.disks (docs/automation.md).
 */
import { useEffect, useState, type FormEvent, type ReactElement } from 'react';
import { useStore } from 'zustand';
import { useLab, useLabState } from '../labContext';
import { createDiskStore } from '../diskStore';
import type { DiskImageRow } from '../../web/protocol/hvProtocol';
import { count } from './format';
import './disks.css';

/** Files larger than this are refused before they are read (they cross to the worker in one message). */
const MAX_UPLOAD_BYTES = 512 * 1024 * 1024;
const REFRESH_MS = 5000;
/** The panel starts folded (one line), so the consoles stay in view when the page opens; the page remembers the fold. */
const OPEN_KEY = 'hyperlab.disks.open';

function loadOpen(): boolean {
  try {
    return localStorage.getItem(OPEN_KEY) === 'true';
  } catch {
    return false;
  }
}
/** Shipped images a disk can be an overlay over: files under guests/ that look like disk images. */
const SHIPPED_DISK = /\.(img|raw|qcow2|ext2|ext4)(\.gz)?$/;

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[u]}`;
}

function saveAs(name: string, data: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([data as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function DisksPanel(): ReactElement {
  const lab = useLab();
  const [store] = useState(() => createDiskStore(lab));
  const { list, error, message, busy, actions } = useStore(store);
  const running = useLabState((s) => s.phase.phase === 'running');
  const catalog = useLabState((s) => s.catalog);
  const ids = useLabState((s) =>
    s.domains
      .filter((d) => d.row.shutdown === null)
      .map((d) => `${d.domid}:${d.name}`)
      .join('\n'),
  );
  const domains = ids === '' ? [] : ids.split('\n').map((x) => ({ domid: Number(x.split(':')[0]), name: x.slice(x.indexOf(':') + 1) }));

  const [open, setOpen] = useState(loadOpen);
  const fold = (next: boolean): void => {
    setOpen(next);
    try {
      localStorage.setItem(OPEN_KEY, JSON.stringify(next));
    } catch {
      /* private mode: not remembered */
    }
  };
  // Listed once for the summary; while open, again now and then (a guest's writes grow its image).
  useEffect(() => {
    if (!running) return;
    void actions.refresh();
    if (!open) return;
    const t = setInterval(() => void actions.refresh(), REFRESH_MS);
    return () => clearInterval(t);
  }, [running, actions, open]);

  const shipped = catalog.status === 'ready' ? catalog.guests.filter((g) => SHIPPED_DISK.test(g.file)).map((g) => `guests/${g.file}`) : [];
  const images = list?.images ?? [];

  return (
    <section className="panel disks" aria-labelledby="disks-title" data-testid="disks-panel" data-open={open}>
      <header className="panel-header">
        <h2 id="disks-title">Disks</h2>
        <p className="panel-facts" data-testid="disks-quota">
          {list
            ? `${images.length} image${images.length === 1 ? '' : 's'} in ${list.where} · ${bytes(list.usage)} used of ${bytes(list.quota)} the browser allows this site`
            : 'disk images in the browser’s storage'}
        </p>
        <button
          type="button"
          className="fold"
          data-testid="disks-toggle"
          aria-expanded={open}
          aria-controls={open ? 'disks-body' : undefined}
          onClick={() => fold(!open)}
        >
          {open ? 'Hide' : 'Show'}
        </button>
      </header>
      {open ? <div id="disks-body">{body()}</div> : null}
    </section>
  );

  function body(): ReactElement {
    return (
      <>
        {error ? (
          <p className="error-line" role="alert" data-testid="disks-error">
            {error}
          </p>
        ) : null}
        {message ? (
          <p className="info-line" data-testid="disks-message">
            {message}
          </p>
        ) : null}
        {images.length === 0 ? (
          <p className="muted row" data-testid="disks-empty">
            No images yet: create one below, or upload a raw or qcow2 file.
          </p>
        ) : (
          <div className="table-scroll">
            <table className="data disk-table" data-testid="disks-table">
              <thead>
                <tr>
                  <th scope="col">Image</th>
                  <th scope="col">Format</th>
                  <th scope="col" className="num" title="The size the guest sees">
                    Size
                  </th>
                  <th scope="col" className="num" title="Guest data the image holds itself (qcow2: its allocated clusters)">
                    Allocated
                  </th>
                  <th scope="col" className="num" title="The file's length: what it takes of the quota">
                    File
                  </th>
                  <th scope="col">Backing file</th>
                  <th scope="col">Attached to</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {images.map((img) => (
                  <DiskRow key={img.name} img={img} attached={list?.attached[img.name] ?? []} busy={busy} store={store} domains={domains} />
                ))}
              </tbody>
            </table>
          </div>
        )}
        <CreateForm images={images} shipped={shipped} busy={busy || !running} onCreate={(req) => actions.create(req)} />
        <div className="row">
          <label htmlFor="disk-upload">Upload</label>
          <input
            id="disk-upload"
            type="file"
            data-testid="disk-upload"
            disabled={busy || !running}
            onChange={(e) => {
              void (async () => {
                const file = e.target.files?.[0];
                e.target.value = '';
                if (!file) return;
                if (file.size > MAX_UPLOAD_BYTES)
                  return actions.refuse(`${file.name}: ${bytes(file.size)} is more than the ${bytes(MAX_UPLOAD_BYTES)} an upload may have`);
                await actions.upload(file.name, new Uint8Array(await file.arrayBuffer()));
              })();
            }}
          />
          <span className="muted">a raw or qcow2 image from your computer; it is kept only if it opens</span>
        </div>
      </>
    );
  }
}

function DiskRow(props: {
  img: DiskImageRow;
  attached: readonly string[];
  busy: boolean;
  store: ReturnType<typeof createDiskStore>;
  domains: readonly { domid: number; name: string }[];
}): ReactElement {
  const { img, attached, busy, store, domains } = props;
  const actions = store.getState().actions;
  const [target, setTarget] = useState<number | ''>('');
  const [vdev, setVdev] = useState('xvdb');
  const chosen = target === '' ? domains[0]?.domid : target;
  return (
    <tr data-testid={`disk-row-${img.name}`} data-name={img.name} data-format={img.format} data-size={img.virtualSize} data-users={img.users}>
      <td className="mono">{img.name}</td>
      <td>
        {img.error ? (
          <span className="fail-text" title={img.error} data-testid={`disk-error-${img.name}`}>
            {/open elsewhere/.test(img.error) ? 'in use in another tab' : `${img.format}: refused`}
          </span>
        ) : (
          img.format
        )}
      </td>
      <td className="num" title={`${count.format(img.virtualSize)} bytes`}>
        {bytes(img.virtualSize)}
      </td>
      <td className="num" title={`${count.format(img.allocatedBytes)} bytes`}>
        {bytes(img.allocatedBytes)}
      </td>
      <td className="num" title={`${count.format(img.fileSize)} bytes`}>
        {bytes(img.fileSize)}
      </td>
      <td className="mono">{img.backing ?? ''}</td>
      <td data-testid={`disk-attached-${img.name}`}>{attached.join(', ')}</td>
      <td className="disk-actions">
        <button
          type="button"
          data-testid={`disk-download-${img.name}`}
          disabled={busy}
          onClick={() => {
            void (async () => {
              const data = await actions.download(img.name);
              if (data) saveAs(img.name, data);
            })();
          }}
        >
          Download
        </button>
        <button type="button" data-testid={`disk-delete-${img.name}`} disabled={busy} onClick={() => void actions.remove(img.name)}>
          Delete
        </button>
        <select
          aria-label={`Domain to attach ${img.name} to`}
          data-testid={`disk-attach-domain-${img.name}`}
          value={chosen ?? ''}
          disabled={domains.length === 0}
          onChange={(e) => setTarget(Number(e.target.value))}
        >
          {domains.map((d) => (
            <option key={d.domid} value={d.domid}>
              {d.name} ({d.domid})
            </option>
          ))}
        </select>
        <input
          className="vdev"
          aria-label={`Virtual device for ${img.name}`}
          data-testid={`disk-attach-vdev-${img.name}`}
          value={vdev}
          onChange={(e) => setVdev(e.target.value.trim())}
        />
        <button
          type="button"
          data-testid={`disk-attach-${img.name}`}
          disabled={busy || chosen === undefined || img.error !== null}
          title="xl block-attach"
          onClick={() => chosen !== undefined && void actions.attach(chosen, img.name, vdev, 'rw')}
        >
          Attach
        </button>
      </td>
    </tr>
  );
}

function CreateForm(props: {
  images: readonly DiskImageRow[];
  shipped: readonly string[];
  busy: boolean;
  onCreate: (req: { name: string; format: 'raw' | 'qcow2'; size?: number; backing?: string }) => Promise<boolean>;
}): ReactElement {
  const [name, setName] = useState('disk.qcow2');
  const [format, setFormat] = useState<'raw' | 'qcow2'>('qcow2');
  const [sizeMiB, setSizeMiB] = useState('16');
  const [backing, setBacking] = useState('');
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const size = sizeMiB.trim() === '' ? undefined : Math.round(Number(sizeMiB) * 1024 * 1024);
    void props.onCreate({ name: name.trim(), format, ...(size !== undefined ? { size } : {}), ...(format === 'qcow2' && backing ? { backing } : {}) });
  };
  return (
    <form className="row disk-create" onSubmit={submit} data-testid="disk-create-form">
      <label htmlFor="disk-name">New image</label>
      <input id="disk-name" data-testid="disk-create-name" value={name} onChange={(e) => setName(e.target.value)} spellCheck={false} />
      <select aria-label="Format" data-testid="disk-create-format" value={format} onChange={(e) => setFormat(e.target.value === 'raw' ? 'raw' : 'qcow2')}>
        <option value="qcow2">qcow2</option>
        <option value="raw">raw</option>
      </select>
      <label htmlFor="disk-size" className="inline">
        size (MiB)
      </label>
      <input
        id="disk-size"
        className="size"
        data-testid="disk-create-size"
        inputMode="decimal"
        value={sizeMiB}
        placeholder={backing ? 'the base’s' : ''}
        onChange={(e) => setSizeMiB(e.target.value)}
      />
      {format === 'qcow2' ? (
        <select aria-label="Backing file" data-testid="disk-create-backing" value={backing} onChange={(e) => setBacking(e.target.value)}>
          <option value="">no backing file</option>
          {props.images
            .filter((i) => i.error === null)
            .map((i) => (
              <option key={i.name} value={i.name}>
                overlay over {i.name}
              </option>
            ))}
          {props.shipped.map((s) => (
            <option key={s} value={s}>
              overlay over {s} (shipped, read-only)
            </option>
          ))}
        </select>
      ) : null}
      <button type="submit" data-testid="disk-create" disabled={props.busy}>
        Create
      </button>
    </form>
  );
}
