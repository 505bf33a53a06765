// # Figure 4 you can move
//
// The page of [the pictures](figures.html) shows Figure 4 of the paper as a grid: each row one of
// the 16 dimensions of a digit capsule, changed by $-0.25, -0.20, \dots, 0.25$ and decoded. This
// script puts the decoder in the page, so that the reader changes the dimensions themselves and
// sees the reconstruction change at once, on a canvas below the grid.
//
// The decoder is the experiment's (`MNISTCapsuleNetworkModel.decode` in `mnist.py`): three fully
// connected layers, $160 \to 512 \to 1024 \to 784$, ReLU, ReLU, sigmoid, fed the $10$ digit
// capsules with all but one masked to zero. Its weights, and the capsules of a few test digits,
// are those of the run that drew the pictures: `images/decoder.js`, written by
// `python -m labml_nn.capsule_networks.figures`, sets `window.CAPSULE_DECODER` before this
// script runs. Where it holds no run (`null`), or the figure is not on the page, the script does
// nothing, and the page reads as it does without JavaScript: the grid.
//
// Plain JavaScript, no library and no build step. The weights are in the page, not fetched, so
// it works from `file://` too.

(() => {
  'use strict';

  // The perturbations of Figure 4: $-0.25$ to $0.25$ in steps of $0.05$
  const LARGEST = 0.25;
  const STEP = 0.05;
  // The side of a digit, in pixels, and the number of pixels of the page for one of them
  const SIDE = 28;
  const SCALE = 6;

  // ## The weights
  //
  // Each layer's weights $W$, `[outputs, inputs]`, are stored as bytes $q_{ij} \in [-127, 127]$
  // with one scale $s_i$ for each row, $W_{ij} \approx s_i q_{ij}$, in base64; its scales and
  // biases as 32-bit floats, little-endian.

  // The bytes of a base64 string
  function bytes(base64) {
    const text = atob(base64);
    const result = new Uint8Array(text.length);
    for (let k = 0; k < text.length; k++) result[k] = text.charCodeAt(k);
    return result;
  }

  // 32-bit floats, little-endian whatever the machine, from base64
  function floats(base64) {
    const data = new DataView(bytes(base64).buffer);
    const result = new Float32Array(data.byteLength / 4);
    for (let k = 0; k < result.length; k++) result[k] = data.getFloat32(4 * k, true);
    return result;
  }

  // The non-linearity after each layer, by the name `decoder.js` gives it
  const ACTIVATIONS = {
    relu: z => Math.max(z, 0),
    sigmoid: z => 1 / (1 + Math.exp(-z)),
  };

  // A layer as the decoder computes with it: `weights`, `[outputs * inputs]` signed bytes,
  // row after row; `scales` and `biases`, `[outputs]`
  function readLayer(stored) {
    return {
      inputs: stored.inputs,
      outputs: stored.outputs,
      activation: ACTIVATIONS[stored.activation],
      weights: new Int8Array(bytes(stored.weights).buffer),
      scales: floats(stored.scales),
      biases: floats(stored.biases),
    };
  }

  // ## The decoder

  // One fully connected layer, $y_i = f\big(s_i \sum_j q_{ij} x_j + b_i\big)$: the scale of a row
  // multiplies its sum once, instead of every weight. `x` is `[inputs]`; returns `[outputs]`.
  function forward(layer, x) {
    const y = new Float64Array(layer.outputs);
    for (let i = 0; i < layer.outputs; i++) {
      const row = i * layer.inputs;
      let sum = 0;
      for (let j = 0; j < layer.inputs; j++) sum += layer.weights[row + j] * x[j];
      y[i] = layer.activation(layer.scales[i] * sum + layer.biases[i]);
    }
    return y;
  }

  // The image decoded from the capsule of `digit`, `[16]`, the other nine masked to zero: the
  // input is `[10 * 16]`, zero but for the 16 values of `digit`. Returns `[784]`, in $[0, 1]$.
  function decode(layers, digit, capsule) {
    let x = new Float64Array(10 * 16);
    x.set(capsule, 16 * digit);
    for (const layer of layers) x = forward(layer, x);
    return x;
  }

  // ## Drawing

  // Pixels in $[0, 1]$, `[784]`, on a canvas of $28 \times 28$, grey from black to white as in
  // the figure; the page shows it larger, each pixel a square.
  function draw(canvas, pixels) {
    const context = canvas.getContext('2d');
    const image = context.createImageData(SIDE, SIDE);
    for (let p = 0; p < SIDE * SIDE; p++) {
      const grey = Math.round(255 * pixels[p]);
      image.data.set([grey, grey, grey, 255], 4 * p);
    }
    context.putImageData(image, 0, 0);
  }

  // A canvas for one digit, shown `scale` pixels of the page to a pixel of the digit, and
  // named `label` for screen readers
  function canvas(scale, label) {
    const element = document.createElement('canvas');
    element.width = element.height = SIDE;
    element.style.width = element.style.height = `${SIDE * scale}px`;
    element.setAttribute('role', 'img');
    element.setAttribute('aria-label', label);
    return element;
  }

  // An element with a class and children
  function element(tag, className, ...children) {
    const made = document.createElement(tag);
    made.className = className;
    made.append(...children);
    return made;
  }

  // The perturbation of a slider, written as the figure writes its columns: `0`, `+0.05`
  function written(value) {
    return value === 0 ? '0' : (value > 0 ? '+' : '') + value.toFixed(2);
  }

  // The look of the widget, in the colours of the page's theme, light or dark. On a phone the
  // reconstruction sits above the sliders, and stays in sight while they scroll under it.
  const STYLE = `
    .capsule-sliders { margin: 1rem 0; padding: 0.75rem 1rem; border: 1px solid var(--rule);
      border-radius: 6px; background: var(--code-background); }
    .capsule-sliders p { margin: 0 0 0.5rem; }
    .capsule-sliders .digits { display: flex; flex-wrap: wrap; gap: 0.35rem;
      margin-bottom: 0.75rem; }
    .capsule-sliders .digits button { display: flex; flex-direction: column; align-items: center;
      padding: 0.2rem; border: 2px solid var(--rule); border-radius: 4px;
      background: var(--background); color: var(--text); font: inherit; font-size: 0.8rem;
      cursor: pointer; }
    .capsule-sliders .digits button[aria-pressed="true"] { border-color: var(--link); }
    .capsule-sliders .body { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
    .capsule-sliders canvas { image-rendering: pixelated; display: block; }
    .capsule-sliders .picture { position: sticky; top: 0; z-index: 1; padding: 0.25rem 0;
      background: var(--code-background); }
    @media (max-width: 40rem) { .capsule-sliders .picture { width: 100%; } }
    .capsule-sliders .sliders { flex: 1 1 16rem; display: grid; gap: 0 0.5rem;
      grid-template-columns: auto minmax(0, 1fr) 3.5em; align-items: center; font-size: 0.85rem; }
    .capsule-sliders input[type=range] { width: 100%; margin: 0.3rem 0; }
    .capsule-sliders output { font-family: var(--monospace); text-align: right; }
    .capsule-sliders .reset { margin-top: 0.5rem; font: inherit; font-size: 0.85rem; }
  `;

  // ## The widget
  //
  // Below the figure: a button for each test digit, the reconstruction from its capsule with
  // the perturbations of the sliders, and a slider for each of the 16 dimensions, from $-0.25$
  // to $0.25$ in steps of $0.05$, as in Figure 4. Unlike the figure, several dimensions can be
  // changed at once: the capsule decoded is $\mathbf{v}_j + \Delta$, with $\Delta$ the values
  // of all the sliders.
  function widget(stored, figure) {
    const layers = stored.layers.map(readLayer);
    const digits = stored.digits.map(digit => ({...digit, pixels: bytes(digit.image)}));
    // The digit shown first: the first in the test set, that of the figure's first panel
    let chosen = digits.reduce((first, digit) =>
      (digit.test_index < first.test_index ? digit : first));
    const delta = new Float64Array(16);

    const reconstruction = canvas(SCALE, 'the reconstruction');
    reconstruction.className = 'reconstruction';
    const outputs = [];
    const sliders = [];
    const buttons = [];

    // Decode the chosen capsule plus the sliders' values, and draw it
    function update() {
      const capsule = chosen.capsule.map((value, d) => value + delta[d]);
      draw(reconstruction, decode(layers, chosen.label, capsule));
      reconstruction.setAttribute('aria-label', `the digit ${chosen.label} decoded from its ` +
                                                'capsule with the perturbations of the sliders');
    }

    const list = element('div', 'digits');
    list.setAttribute('role', 'group');
    list.setAttribute('aria-label', 'test digits');
    for (const digit of digits) {
      const thumbnail = canvas(2, `test digit ${digit.test_index + 1}`);
      draw(thumbnail, Array.from(digit.pixels, value => value / 255));
      const button = element('button', '', thumbnail, String(digit.label));
      button.type = 'button';
      button.title = `test digit ${digit.test_index + 1}, a ${digit.label}`;
      button.setAttribute('aria-pressed', String(digit === chosen));
      button.addEventListener('click', () => {
        chosen = digit;
        buttons.forEach(other => other.setAttribute('aria-pressed', String(other === button)));
        update();
      });
      buttons.push(button);
      list.append(button);
    }

    const grid = element('div', 'sliders');
    for (let d = 0; d < 16; d++) {
      const slider = document.createElement('input');
      Object.assign(slider, {type: 'range', min: -LARGEST, max: LARGEST, step: STEP, value: 0,
                             id: `capsule-dimension-${d + 1}`});
      const output = element('output', '', '0');
      output.htmlFor = slider.id;
      const label = element('label', '', String(d + 1));
      label.htmlFor = slider.id;
      label.title = `dimension ${d + 1}`;
      slider.addEventListener('input', () => {
        delta[d] = Number(slider.value);
        output.textContent = written(delta[d]);
        update();
      });
      sliders.push(slider);
      outputs.push(output);
      grid.append(label, slider, output);
    }

    const reset = element('button', 'reset', 'All dimensions to 0');
    reset.type = 'button';
    reset.addEventListener('click', () => {
      delta.fill(0);
      sliders.forEach(slider => { slider.value = 0; });
      outputs.forEach(output => { output.textContent = '0'; });
      update();
    });

    const intro = element('p', '', 'Move it yourself: choose a test digit, then change the ' +
                                   'dimensions of its capsule (1 to 16) and see what the ' +
                                   'decoder draws. The decoder of the same run, ' +
                                   `${stored.caption}.`);
    const root = element('div', 'capsule-sliders', intro, list,
                         element('div', 'body', element('div', 'picture', reconstruction, reset),
                                 grid));
    root.setAttribute('role', 'group');
    root.setAttribute('aria-label', 'Figure 4 you can move');
    update();
    // After the paragraph that holds the figure
    (figure.closest('.notes > *') || figure).after(root);
  }

  function start() {
    const stored = window.CAPSULE_DECODER;
    const figure = document.querySelector('img[src$="images/perturbations.png"]');
    if (!stored || !figure) return;
    const style = document.createElement('style');
    style.textContent = STYLE;
    document.head.append(style);
    widget(stored, figure);
  }

  start();
})();
