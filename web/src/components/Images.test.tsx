import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, waitFor } from '@testing-library/react';
import { ImageLoader, StepImages, imagePaths } from './Images';

afterEach(cleanup);

describe('imagePaths', () => {
  it('finds the image paths a tool named, each once, never URLs', () => {
    expect(imagePaths('{"path": "charts/sales.png"}')).toEqual(['charts/sales.png']);
    expect(imagePaths('saved screenshot to /w/u1/shot.JPG; and shot.webp (twice: shot.webp)')).toEqual(['/w/u1/shot.JPG', 'shot.webp']);
    expect(imagePaths('see https://example.com/a.png and notes.txt')).toEqual([]);
    expect(imagePaths(undefined)).toEqual([]);
    expect(imagePaths('a.png b.png c.png d.png e.png')).toHaveLength(4);
  });
});

describe('StepImages', () => {
  it('shows the images it could load from blob URLs and skips the refused ones', async () => {
    const create = vi.fn(() => 'blob:fake-1');
    const revoke = vi.fn();
    Object.assign(URL, { createObjectURL: create, revokeObjectURL: revoke });
    const load = vi.fn(async (p: string) => {
      if (p === 'ok.png') return new Blob(['x'], { type: 'image/png' });
      throw new Error('404');
    });
    const { container, unmount } = render(
      <ImageLoader.Provider value={load}>
        <StepImages texts={['{"path":"ok.png"}', 'wrote ../other/secret.png']} />
      </ImageLoader.Provider>,
    );
    await waitFor(() => expect(container.querySelector('img')).not.toBeNull());
    expect(load).toHaveBeenCalledWith('ok.png');
    expect(load).toHaveBeenCalledWith('../other/secret.png');
    const imgs = container.querySelectorAll('img');
    expect(imgs).toHaveLength(1);
    expect(imgs[0]!.getAttribute('src')).toBe('blob:fake-1');
    expect(imgs[0]!.getAttribute('alt')).toBe('image ok.png');
    unmount();
    expect(revoke).toHaveBeenCalledWith('blob:fake-1');
  });

  it('shows nothing without a loader', () => {
    const { container } = render(<StepImages texts={['a.png']} />);
    expect(container.innerHTML).toBe('');
  });
});
