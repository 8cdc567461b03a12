/**
 * Creating domains: from a preset (the images the lab ships, with their xl.cfg), from an
 * xl.cfg of your own in the editor, or from a kernel image uploaded or dropped anywhere
 * on the page. A dropped image boots at once as its own domain; with the editor open it
 * is attached to the config instead. Errors are said where the create was asked.
 */
import { useEffect, useState, type ReactElement } from 'react';
import { useLabState } from '../labContext';
import { ConfigEditor } from './ConfigEditor';

/** Uploads larger than this are refused before they reach the worker. */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

/** `kernel = "name"` in the config: replace the line, or add one. */
function withKernel(text: string, name: string): string {
  const line = `kernel = "${name}"`;
  return /^\s*kernel\s*=.*$/m.test(text) ? text.replace(/^\s*kernel\s*=.*$/m, line) : `${text.replace(/\n*$/, '\n')}${line}\n`;
}

export function CreatePanel(): ReactElement {
  const presets = useLabState((s) => s.presets);
  const create = useLabState((s) => s.create);
  const running = useLabState((s) => s.phase.phase === 'running');
  const actions = useLabState((s) => s.actions);
  const [choice, setChoice] = useState('');
  const [uploadType, setUploadType] = useState<'hvm' | 'pv'>('hvm');
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  const [image, setImage] = useState<{ name: string; bytes: Uint8Array } | null>(null);
  const [dragging, setDragging] = useState(false);
  const preset = presets.find((p) => p.name === choice) ?? presets[0];
  const error = create.error;

  async function takeFile(file: File | undefined): Promise<void> {
    if (!file) return;
    if (file.size > MAX_UPLOAD_BYTES) {
      actions.reportCreateError(
        editing ? 'editor' : 'upload',
        `${file.name}: ${file.size} bytes is more than the ${MAX_UPLOAD_BYTES >> 20} MiB an image may have`,
      );
      return;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (editing) {
      setImage({ name: file.name, bytes });
      setText((t) => withKernel(t, file.name));
    } else await actions.createUpload(file.name, bytes, uploadType);
  }

  // Files dropped anywhere on the page come here.
  useEffect(() => {
    const over = (e: DragEvent): void => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent): void => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent): void => {
      setDragging(false);
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      void takeFile(file);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  });

  return (
    <section className={`panel create${dragging ? ' dragging' : ''}`} aria-labelledby="create-title">
      <header className="panel-header">
        <h2 id="create-title">Create a domain</h2>
        <p className="panel-facts">
          {create.pending > 0 ? <span data-testid="create-pending">creating…</span> : 'xl create, from a preset, a config or an image'}
        </p>
      </header>
      <div className="row">
        <label htmlFor="preset-select">Preset</label>
        <select
          id="preset-select"
          data-testid="preset-select"
          value={preset?.name ?? ''}
          disabled={presets.length === 0}
          onChange={(e) => setChoice(e.target.value)}
        >
          {presets.map((p) => (
            <option key={p.name} value={p.name}>
              {p.name} ({p.type})
            </option>
          ))}
        </select>
        <button
          type="button"
          className="primary"
          data-testid="create-button"
          disabled={!preset || !running}
          onClick={() => preset && void actions.createPreset(preset.name)}
        >
          Create
        </button>
        <button
          type="button"
          data-testid="edit-config-button"
          aria-expanded={editing}
          disabled={!preset}
          onClick={() => {
            if (!editing && preset) setText(preset.config);
            setEditing(!editing);
          }}
        >
          {editing ? 'Hide config' : 'Edit config…'}
        </button>
      </div>
      {preset ? <p className="muted preset-description">{preset.description}</p> : null}
      <div className="drop-zone" data-testid="drop-zone">
        <span title="An RV32 ELF, or a flat binary loaded at 0x80000000">Drop a kernel image on the page, or</span>
        <button type="button" data-testid="upload-button" onClick={() => document.getElementById('upload-input')?.click()}>
          Choose a file…
        </button>
        <label>
          as{' '}
          <select data-testid="upload-type" value={uploadType} onChange={(e) => setUploadType(e.target.value === 'pv' ? 'pv' : 'hvm')}>
            <option value="hvm">hvm</option>
            <option value="pv">pv</option>
          </select>
        </label>
        <input
          id="upload-input"
          type="file"
          hidden
          data-testid="upload-input"
          accept=".elf,.bin,.img,application/octet-stream"
          onChange={(e) => {
            void takeFile(e.target.files?.[0]);
            e.target.value = '';
          }}
        />
      </div>
      {error && error.source !== 'editor' ? (
        <p className="error-line" role="alert" data-testid="create-error">
          {error.message}
        </p>
      ) : null}
      {editing ? (
        <ConfigEditor
          text={text}
          onChange={(t) => {
            setText(t);
            actions.clearCreateError();
          }}
          error={error?.source === 'editor' ? error : null}
          image={image ? { name: image.name, size: image.bytes.length } : null}
          pending={create.pending > 0}
          onCreate={() => void actions.createConfig(text, image ?? undefined)}
          onClose={() => setEditing(false)}
        />
      ) : null}
    </section>
  );
}
