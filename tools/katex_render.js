// Typesets formulas with KaTeX, all in this one process (see katex.py).
//
// Reads from stdin a JSON list of formulas, [{"tex": "c_{ij}", "display": false}, ...], and
// writes to stdout a JSON list with one result for each, in the same order:
// {"html": "..."} or {"error": "KaTeX's message"}.
//
// The HTML carries MathML too (output: 'htmlAndMathml'): the HTML is for the eye, the MathML for
// screen readers. strict: 'error' turns KaTeX's warnings about input that LaTeX would read
// differently into errors, so that the build stops on them. A command that would link or load
// something (\href, \url, \includegraphics, \htmlClass...) is an error too: KaTeX would
// otherwise show it in red, and say nothing.
'use strict';

const katex = require('katex');

function untrusted({ command }) {
  throw new Error(`${command} would link to or load something, which a formula may not: write `
    + 'the link in Markdown, outside the formula');
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const results = JSON.parse(input).map(({ tex, display }) => {
    try {
      return {
        html: katex.renderToString(tex, {
          displayMode: display, output: 'htmlAndMathml', throwOnError: true, strict: 'error',
          trust: untrusted,
        }),
      };
    } catch (error) {
      return { error: error.message };
    }
  });
  process.stdout.write(JSON.stringify(results));
});
