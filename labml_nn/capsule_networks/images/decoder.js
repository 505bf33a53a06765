// The decoder of a trained CapsNet and the capsules of a few test digits, for the Figure 4
// you can move (perturbations.js). No run has been drawn here yet: `make figures RUN=<run uuid>`
// writes this file, with the pictures, and until then the page shows the figure only.
window.CAPSULE_DECODER = null;
