"""
---
title: Pictures, light and dark
summary: >
  Matplotlib figures drawn at the size they are read at, in a light and a dark theme, saved as
  small PNGs that are the same bytes on every drawing.
---

# Pictures, light and dark

[The pictures of the tutorial](../capsule_networks/figures.html) are drawn with these helpers.

* **At the size they are read at.** A figure is drawn at $100$ pixels per inch and shown at its
  natural size, one pixel of the PNG to one pixel of the page, with text of $10$ points, about
  $14$ pixels. Grids of digits are drawn pixel for pixel (`place`), never resampled.
* **Light and dark.** Each picture is drawn twice, in the colours of the site's light and dark
  themes: `x.png` and `x.dark.png`. Only the background, the text and the axes change; digits are
  drawn the same way in both.
* **No global state.** Figures are `matplotlib.figure.Figure`s made without `pyplot`, so the same
  functions save PNGs and show the pictures in a notebook (`show`).
"""

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch
from PIL import Image

# Pixels per inch: a figure of $w \times h$ inches is $100 w \times 100 h$ pixels.
DPI = 100

# The colours of the site's two themes: background, text, and the lines of axes and legends
PALETTES = {
    'light': {'background': '#ffffff', 'text': '#1f2328', 'axes': '#59636e', 'rule': '#d1d9e0'},
    'dark': {'background': '#0d1117', 'text': '#e6edf3', 'axes': '#9198a1', 'rule': '#3d444d'},
}


def theme(name: str) -> Dict[str, object]:
    """
    The matplotlib settings (`rcParams`) of theme `name`, `light` or `dark`: its colours and the
    text sizes of every picture.
    """
    colours = PALETTES[name]
    return {
        'figure.facecolor': colours['background'], 'axes.facecolor': colours['background'],
        'savefig.facecolor': colours['background'], 'legend.facecolor': colours['background'],
        'text.color': colours['text'], 'axes.labelcolor': colours['text'],
        'axes.titlecolor': colours['text'], 'xtick.labelcolor': colours['text'],
        'ytick.labelcolor': colours['text'], 'xtick.color': colours['axes'],
        'ytick.color': colours['axes'], 'axes.edgecolor': colours['axes'],
        'legend.edgecolor': colours['rule'], 'grid.color': colours['rule'],
        'font.size': 10, 'axes.titlesize': 10, 'axes.labelsize': 10, 'figure.titlesize': 11,
        'legend.fontsize': 9,
    }


def dark_path(path: Path) -> Path:
    """
    The dark variant of a picture: `images/x.png` has `images/x.dark.png`.
    """
    return path.with_name(f'{path.stem}.dark{path.suffix}')


def foreground() -> str:
    """
    The text colour of the theme in use, for lines that must read on either background.
    """
    return matplotlib.rcParams['text.color']


def background() -> str:
    """
    The background colour of the theme in use; the colour of the gaps of a grid.
    """
    return matplotlib.rcParams['axes.facecolor']


def diverging_colour_map() -> str:
    """
    A diverging colour map whose middle is the background's lightness: white on a light page,
    dark on a dark one, so that the values near the middle do not glare.
    """
    return 'berlin' if background() == PALETTES['dark']['background'] else 'RdBu_r'


def mosaic(images: torch.Tensor, gap: int = 2) -> np.ndarray:
    """
    ## A grid of images in one array

    * `images` is `[rows, columns, height, width]`, or `[rows, columns, 3, height, width]` in
      colour (red, green, blue)

    Returns the images side by side, `gap` pixels apart, as one array, `[height, width]` or
    `[height, width, 3]`: a figure with one image instead of hundreds of small axes draws faster
    and makes a smaller PNG. The gaps are `NaN`, drawn in the background colour.
    """
    if images.dim() == 5:
        # Each colour on its own, `[height, width, 3]`
        return np.stack([mosaic(images[:, :, channel], gap) for channel in range(3)], axis=-1)
    rows, columns, height, width = images.shape
    # A gap below and to the right of each image: `[rows, columns, height + gap, width + gap]`
    padded = F.pad(images.float().cpu(), (0, gap, 0, gap), value=float('nan'))
    # Rows of images one above the other, `[rows * (height + gap), columns * (width + gap)]`
    grid = padded.permute(0, 2, 1, 3).reshape(rows * (height + gap), columns * (width + gap))
    # Without the gap after the last row and column
    return grid[:-gap, :-gap].numpy() if gap else grid.numpy()


def show_grid(axes: Axes, images: torch.Tensor, *, gap: int = 2,
              column_labels: Optional[List[str]] = None, row_labels: Optional[List[str]] = None,
              cmap: str = 'gray', **imshow):
    """
    Draw `images`, `[rows, columns, height, width]` (or in colour, `[rows, columns, 3, height,
    width]`, in $[0, 1]$, drawn as they are), as a mosaic on `axes`, with a label under each
    column and beside each row. Returns the `AxesImage`, for a colour bar.
    """
    rows, columns, height, width = images.shape[:2] + images.shape[-2:]
    grid = mosaic(images, gap)
    if grid.ndim == 3:
        # In colour: the gaps in the background colour
        grid = np.where(np.isnan(grid), matplotlib.colors.to_rgb(background()), grid)
        image = axes.imshow(grid.clip(0, 1), interpolation='nearest')
    else:
        colour_map = matplotlib.colormaps[cmap].with_extremes(bad=background())
        image = axes.imshow(grid, cmap=colour_map, interpolation='nearest', **imshow)
    # A tick at the centre of each cell, in pixels of the mosaic
    axes.set_xticks([c * (width + gap) + (width - 1) / 2 for c in range(columns)]
                    if column_labels else [], column_labels or [])
    axes.set_yticks([r * (height + gap) + (height - 1) / 2 for r in range(rows)]
                    if row_labels else [], row_labels or [])
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    return image


def place(figure: Figure, left: float, top: float, width: float, height: float) -> Axes:
    """
    New axes on `figure` at a box given in pixels from the figure's top left corner: a mosaic
    of exactly `width` $\\times$ `height` pixels is drawn pixel for pixel.
    """
    figure_width, figure_height = figure.get_size_inches() * DPI
    return figure.add_axes((left / figure_width, 1 - (top + height) / figure_height,
                            width / figure_width, height / figure_height))


@dataclass
class Panel:
    """
    ## Panels of digits

    A grid of images with its labels, one of the panels of `panels_figure`.
    """
    # The images, `[rows, columns, height, width]`
    images: torch.Tensor
    title: str = ''
    # A label under each column and beside each row, and one under and beside the whole grid
    column_labels: Optional[List[str]] = None
    row_labels: Optional[List[str]] = None
    xlabel: str = ''
    ylabel: str = ''
    # Whether the labels of the rows go on the right
    labels_right: bool = False


def headline(name: str, title: str) -> str:
    """
    A picture's title: its name, then the caption of the run when there is one.
    """
    return f'{name}, {title}' if title else name


def panels_figure(panels: List[Panel], title: str, scale: int, *, left: int, right: int,
                  between: int, top: int = 60, bottom: int = 50, stacked: bool = False) -> Figure:
    """
    The panels side by side (or one above the other when `stacked`), each image pixel drawn as
    `scale` $\\times$ `scale` pixels, exactly, so that the small changes from one image to the
    next are not blurred by resampling. The margins, in pixels, leave room for the labels: `left`
    and `right` of all panels, `between` them, `top` for the titles and `bottom` for the labels of
    the columns.
    """
    # The size of each panel in pixels
    sizes = [[side * scale for side in mosaic(panel.images).shape[:2]] for panel in panels]
    heights, widths = [size[0] for size in sizes], [size[1] for size in sizes]
    if stacked:
        width = left + max(widths) + right
        height = top + sum(heights) + between * (len(panels) - 1) + bottom
    else:
        width = left + sum(widths) + between * (len(panels) - 1) + right
        height = top + max(heights) + bottom
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    x, y = left, top
    for panel, (panel_height, panel_width) in zip(panels, sizes):
        axes = place(figure, x, y, panel_width, panel_height)
        show_grid(axes, panel.images, vmin=0, vmax=1, column_labels=panel.column_labels,
                  row_labels=panel.row_labels)
        if panel.labels_right:
            axes.yaxis.tick_right()
        axes.set_title(panel.title)
        axes.set_xlabel(panel.xlabel)
        axes.set_ylabel(panel.ylabel)
        if stacked:
            y += panel_height + between
        else:
            x += panel_width + between
    # The title in the top margin, above the panels' titles
    figure.suptitle(title, y=1 - 8 / height, va='top')
    return figure


@dataclass
class Box:
    """
    ## Diagrams of boxes

    A box of `box_diagram`, in a grid of columns and rows: a bold name, what it does (a line or
    two) and a shape in monospace.
    """
    column: int
    row: int
    # Its colour, such as `C0` of matplotlib's colour cycle
    colour: str
    name: str
    what: str
    shape: str


# An arrow from the box at (column, row) to another: `((column, row), (column, row))`
Arrow = Tuple[Tuple[int, int], Tuple[int, int]]


def box_diagram(boxes: List[Box], arrows: List[Arrow], dashed: Arrow, dashed_label: str, *,
                box_width: int = 140, box_height: int = 100, gap: int = 26, row_gap: int = 56,
                margin: int = 12) -> Figure:
    """
    The boxes, and arrows between neighbouring boxes, from the edge of one to the facing edge of
    the other; one more arrow, `dashed`, has a label beside it. The sizes are in pixels.
    """
    columns = max(box.column for box in boxes) + 1
    rows = max(box.row for box in boxes) + 1
    width = 2 * margin + columns * box_width + (columns - 1) * gap
    height = 2 * margin + rows * box_height + (rows - 1) * row_gap
    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    # One axes over the whole figure, in pixels from the top left corner
    axes = place(figure, 0, 0, width, height)
    axes.set(xlim=(0, width), ylim=(height, 0))
    axes.axis('off')

    def centre(column: int, row: int) -> np.ndarray:
        return np.array([margin + column * (box_width + gap) + box_width / 2,
                         margin + row * (box_height + row_gap) + box_height / 2])

    for box in boxes:
        x, y = centre(box.column, box.row)
        axes.add_patch(FancyBboxPatch((x - box_width / 2, y - box_height / 2), box_width,
                                      box_height, boxstyle='round,pad=0,rounding_size=8',
                                      linewidth=1.2, color=box.colour, alpha=0.2))
        axes.text(x, y - box_height / 2 + 16, box.name, ha='center', va='center',
                  fontweight='bold')
        axes.text(x, y + 2, box.what, ha='center', va='center', fontsize=9, linespacing=1.3)
        axes.text(x, y + box_height / 2 - 15, box.shape, ha='center', va='center', fontsize=9,
                  family='monospace')
    for start, end in arrows + [dashed]:
        # From the centre of one box to the centre of the other, less half a box at each end
        step = np.sign(np.subtract(end, start))
        half = step * (box_width / 2, box_height / 2)
        axes.annotate('', xy=centre(*end) - half, xytext=centre(*start) + half, arrowprops=dict(
            arrowstyle='-|>', shrinkA=0, shrinkB=0, linewidth=1.2, linestyle=(
                '--' if (start, end) == dashed else '-'), color=matplotlib.rcParams['text.color']))
    x, y = (centre(*dashed[0]) + centre(*dashed[1])) / 2
    axes.text(x + 10, y, dashed_label, va='center', fontsize=9)
    return figure


def png(figure: Figure) -> bytes:
    """
    ## Saving a picture

    A figure as a PNG of `DPI` pixels per inch.

    Matplotlib draws in RGBA, four bytes a pixel. A picture in greys only is kept exactly with one
    byte a pixel; a picture in colour keeps a palette of its $256$ most used colours. The file
    holds no date or other metadata, so drawing the same figure again gives the same bytes.
    """
    drawn = io.BytesIO()
    figure.savefig(drawn, format='png', dpi=DPI)
    image = Image.open(drawn).convert('RGB')
    # Grey when the red, green and blue of every pixel are equal
    pixels = np.asarray(image)
    if (pixels == pixels[..., :1]).all():
        image = image.convert('L')
    else:
        image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    compressed = io.BytesIO()
    image.save(compressed, format='png', optimize=True)
    return compressed.getvalue()


def save(figure: Figure, path: Path):
    """
    Write a figure to `path` as `png` makes it, atomically: to a temporary file, then renamed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f'.{path.name}.tmp')
    temporary.write_bytes(png(figure))
    temporary.replace(path)


def show(figure: Figure):
    """
    A figure for a notebook's cell to show, as the PNG of `png`: at the size it is drawn, and
    a third of the bytes of the notebook's own PNG.
    """
    from IPython.display import Image as NotebookImage
    return NotebookImage(data=png(figure))


def save_light_and_dark(draw: Callable[[], Figure], path: Path) -> List[Path]:
    """
    Draw a figure in each theme, with `draw`, and save it as `path` (light) and its `dark_path`.
    Returns the two files.
    """
    written = []
    for name, target in (('light', path), ('dark', dark_path(path))):
        with matplotlib.rc_context(theme(name)):
            save(draw(), target)
        written.append(target)
    return written
