// contrast.mjs - WCAG 2 contrast of the text the UI shows, measured in the
// browser: for every visible element under the given selectors that holds
// text of its own, the ratio of the relative luminance of its colour to that
// of the background it is drawn on (the element's and its ancestors'
// background colours composited, as the page paints them; opacity counts).
// A gradient behind the text counts as each of its colours.
// Colours are read through a canvas so any CSS colour syntax works
// (rgb(), color(srgb ...), color-mix results). Used by the browser tests;
// pure functions and one page.evaluate.

// WCAG 2.x relative luminance of an sRGB colour [r, g, b] in 0..255.
export function relativeLuminance([r, g, b]) {
  const linear = (c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
}

// WCAG contrast ratio of two opaque colours, 1..21.
export function contrastRatio(a, b) {
  const la = relativeLuminance(a);
  const lb = relativeLuminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

// The text of the elements matched by selectors in page: a list of
// { text, testid, className, color, background, ratio }. Disabled controls
// are left out (WCAG exempts them), and so is text that is not shown.
export async function measureContrast(page, selectors) {
  // A theme change or a hover runs colour transitions: measure their end.
  // Bounded: an animation that does not run (a paused one, or one whose
  // element is held still) would otherwise hold the test until its timeout.
  await page.evaluate(() => Promise.race([
    Promise.all(document.getAnimations()
      .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
      .map((a) => a.finished.catch(() => {}))),
    new Promise((resolve) => setTimeout(resolve, 3000)),
  ]));
  const samples = await page.evaluate((selectorList) => {
    const canvas = document.createElement('canvas');
    canvas.width = 1;
    canvas.height = 1;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    // Any CSS colour -> [r, g, b, a] with a in 0..1.
    const parse = (css) => {
      ctx.clearRect(0, 0, 1, 1);
      ctx.fillStyle = 'transparent'; // kept if css does not parse
      const alphaMatch = /\/\s*([\d.]+)\s*\)$|rgba\([^)]*,\s*([\d.]+)\s*\)$/.exec(css);
      const alpha = alphaMatch ? Number(alphaMatch[1] ?? alphaMatch[2]) : (css === 'transparent' ? 0 : 1);
      ctx.fillStyle = css;
      ctx.fillRect(0, 0, 1, 1);
      const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
      if (a === 0) return [0, 0, 0, 0];
      // getImageData un-premultiplies; keep the alpha the style gave (more exact).
      return [r, g, b, alpha > 0 ? alpha : a / 255];
    };
    const over = (top, bottom) => {
      const a = top[3];
      return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
    };
    // The colours behind el: its and its ancestors' backgrounds, composited
    // onto the page's canvas colour. A gradient counts as each of its stops
    // (the text must be readable on all of them); images are not looked at.
    const backgroundsOf = (el) => {
      const layers = [];
      let stops = null;
      for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
        const style = getComputedStyle(node);
        if (/gradient/.test(style.backgroundImage)) {
          stops = (style.backgroundImage.match(/(rgba?|color)\([^)]*\)/g) || []).map(parse);
          if (stops.length) break;
          stops = null;
        }
        const bg = parse(style.backgroundColor);
        if (bg[3] > 0) layers.push(bg);
        if (bg[3] >= 1) break;
      }
      const dark = matchMedia('(prefers-color-scheme: dark)').matches;
      const bases = stops ? stops.map((stop) => over(stop, dark ? [0, 0, 0, 1] : [255, 255, 255, 1]))
        : [dark ? [0, 0, 0, 1] : [255, 255, 255, 1]];
      return bases.map((base) => {
        let colour = base;
        for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
        return colour;
      });
    };
    const opacityOf = (el) => {
      let opacity = 1;
      for (let node = el; node && node.nodeType === 1; node = node.parentElement) opacity *= Number(getComputedStyle(node).opacity);
      return opacity;
    };
    const shown = (el) => {
      if (!el.getClientRects().length) return false;
      const style = getComputedStyle(el);
      return style.visibility !== 'hidden' && style.display !== 'none';
    };
    const ownText = (el) => [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
    const srOnly = (el) => {
      const style = getComputedStyle(el);
      return style.position === 'absolute' && el.getBoundingClientRect().width <= 1;
    };
    const out = [];
    const seen = new Set();
    for (const selector of selectorList) {
      for (const root of document.querySelectorAll(selector)) {
        for (const el of [root, ...root.querySelectorAll('*')]) {
          if (seen.has(el)) continue;
          seen.add(el);
          const text = ownText(el);
          if (!text || !shown(el) || srOnly(el)) continue;
          if (el.closest(':disabled, [aria-disabled="true"]')) continue;
          const style = getComputedStyle(el);
          const fg = parse(style.color);
          // Opacity fades the text toward what is behind it: count it.
          const faded = [fg[0], fg[1], fg[2], fg[3] * opacityOf(el)];
          for (const bg of backgroundsOf(el)) {
            out.push({
              text: text.slice(0, 60),
              testid: el.closest('[data-testid]')?.dataset.testid || null,
              className: typeof el.className === 'string' ? el.className : '',
              color: over(faded, bg).slice(0, 3).map(Math.round),
              background: bg.slice(0, 3).map(Math.round),
            });
          }
        }
      }
    }
    return out;
  }, selectors);
  return samples.map((s) => ({ ...s, ratio: Math.round(contrastRatio(s.color, s.background) * 100) / 100 }));
}

// The samples under minimum (4.5 by default), for an assertion message.
export function lowContrast(samples, minimum = 4.5) {
  return samples.filter((s) => s.ratio < minimum);
}
