// Images.tsx — charts and screenshots that tools leave in the user's
// workspace, shown under the step that made or named them.  An <img> cannot
// carry the bearer token, so each image is fetched through the API
// (GET /api/v1/files, the requester's own workspace only) and shown from a
// blob: URL, released when it leaves the page.
import { createContext, useContext, useEffect, useState } from 'react';

export type LoadImage = (path: string) => Promise<Blob>;
export const ImageLoader = createContext<LoadImage | null>(null);

const IMAGE = /(?:^|[\s"'`(=:[])((?:\/|\.{1,2}\/)?[\w@+-][\w@+./-]*\.(?:png|jpe?g|gif|webp))(?=$|[\s"'`),;:\]])/gi;

/** The image paths named in a tool's arguments or result (at most 4, each once). */
export function imagePaths(text: string | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const m of text.matchAll(IMAGE)) {
    const p = m[1]!;
    if (!p.includes('://') && !out.includes(p)) out.push(p);
    if (out.length === 4) break;
  }
  return out;
}

function WorkspaceImage({ path, load }: { path: string; load: LoadImage }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let gone = false;
    let made: string | null = null;
    load(path).then(
      (b) => {
        if (gone) return;
        made = URL.createObjectURL(b);
        setUrl(made);
      },
      () => !gone && setFailed(true),
    );
    return () => {
      gone = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [path, load]);
  if (failed) return null; // named but not an image of this user's: nothing to show
  return url ? <img className="tool-image" src={url} alt={`image ${path}`} /> : null;
}

export function StepImages({ texts }: { texts: (string | undefined)[] }) {
  const load = useContext(ImageLoader);
  const paths = [...new Set(texts.flatMap(imagePaths))].slice(0, 4);
  if (!load || paths.length === 0) return null;
  return (
    <div className="tool-images">
      {paths.map((p) => (
        <figure key={p}>
          <WorkspaceImage path={p} load={load} />
          <figcaption className="dim small">{p}</figcaption>
        </figure>
      ))}
    </div>
  );
}
