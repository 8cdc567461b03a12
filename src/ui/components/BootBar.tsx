/**
 * Booting more machines: pick an image that ships with the lab, or give one of your
 * own (file picker or drag and drop). A boot that fails says why next to the picker.
 */
import { useRef, useState, type DragEvent, type ReactElement } from 'react';
import { useLabState } from '../labContext';

/** Uploads larger than this are refused before they reach a worker. */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export function BootBar(): ReactElement {
  const catalog = useLabState((s) => s.catalog);
  const boot = useLabState((s) => s.boot);
  const actions = useLabState((s) => s.actions);
  const [choice, setChoice] = useState('');
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  const guests = catalog.status === 'ready' ? catalog.guests : [];
  const selected = choice || guests[0]?.name || '';

  async function bootFile(file: File | undefined): Promise<void> {
    if (!file) return;
    if (file.size > MAX_UPLOAD_BYTES) {
      actions.reportBootError(`${file.name}: ${file.size} bytes is more than the ${MAX_UPLOAD_BYTES >> 20} MiB an upload may have`);
      return;
    }
    await actions.bootUpload(file.name, new Uint8Array(await file.arrayBuffer()));
  }

  function onDrop(e: DragEvent<HTMLDivElement>): void {
    e.preventDefault();
    setDragging(false);
    void bootFile(e.dataTransfer.files[0]);
  }

  return (
    <section className="boot-bar" aria-label="Boot a machine">
      <div className="boot-catalog">
        <label htmlFor="image-select">Guest image</label>
        <select
          id="image-select"
          data-testid="image-select"
          value={selected}
          disabled={guests.length === 0}
          onChange={(e) => setChoice(e.target.value)}
        >
          {catalog.status === 'loading' ? <option value="">loading…</option> : null}
          {catalog.status === 'error' ? <option value="">no images</option> : null}
          {guests.map((g) => (
            <option key={g.name} value={g.name}>
              {g.name} ({Math.ceil(g.size / 1024)} KiB)
            </option>
          ))}
        </select>
        <button type="button" className="primary" data-testid="boot-button" disabled={!selected} onClick={() => void actions.bootGuest(selected)}>
          Boot
        </button>
      </div>
      <div
        className={`drop-zone${dragging ? ' dragging' : ''}`}
        data-testid="drop-zone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <span>Drop an RV32 ELF or flat binary here, or</span>
        <button type="button" data-testid="upload-button" onClick={() => fileInput.current?.click()}>
          Choose a file…
        </button>
        <input
          ref={fileInput}
          type="file"
          hidden
          data-testid="upload-input"
          accept=".elf,.bin,.img,application/octet-stream"
          onChange={(e) => {
            void bootFile(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
      </div>
      <p className="boot-message" role="status" data-testid="boot-pending">
        {boot.pending > 0 ? 'booting…' : ''}
      </p>
      {boot.error !== null ? (
        <p className="boot-error" role="alert" data-testid="boot-error">
          {boot.error}
        </p>
      ) : null}
      {catalog.status === 'error' ? (
        <p className="boot-error" role="alert" data-testid="catalog-error">
          {catalog.error}
        </p>
      ) : null}
    </section>
  );
}
