# # Installing from the bundle, on a GPU machine without internet access
#
# `make gpu-bundle` fills `.build/gpu-bundle/` where the package registry is reachable: in
# `wheels/`, labml-nn 0.5.1, labml 0.5.3 and, for a machine that lacks them, torchvision 0.26 for
# torch 2.11, Pillow, NumPy and PyYAML; in `mnist/`, the four MNIST files, gzipped. A script for
# the GPU machine sources this file and calls, within a step of its own,
#
#     install_from_bundle [MODULE...]
#
# with `PY` (the interpreter), `BUNDLE` (the bundle's folder), `SITE` (where packages go, first
# on the script's `PYTHONPATH`) and `DATA` (where `MNIST/raw/` goes) set and exported. torch must
# be there already. Each other package is installed into `SITE` only where `PY` can't find it,
# and each MODULE always (a rehearsal on a machine that has them all installs one to show that
# installing works); then the MNIST files are unpacked, unless they are there.

# Each module the runners import, and the distribution whose wheel provides it
export BUNDLE_MODULES='yaml:pyyaml PIL:pillow numpy:numpy torchvision:torchvision labml:labml'

# The wheel of distribution `$1` in the bundle.
wheel() {
    local found
    found=$(ls "$BUNDLE"/wheels/"$1"-*.whl 2>/dev/null | head -n 1)
    if [ -z "$found" ]; then
        echo "no $1 wheel in $BUNDLE/wheels: run \`make gpu-bundle\` and carry the folder" >&2
        return 1
    fi
    echo "$found"
}

# Wheel `$2` installed into folder `$1`: unpacked, as the zip file it is, which is all that
# installing a package of modules into a folder of its own takes (and needs no pip).
install_wheel() {
    "$PY" -m zipfile -e "$2" "$1"
}

install_from_bundle() {
    set -euo pipefail
    local pair module found name missing
    # The modules this Python can't find, in one look that imports none of them
    missing=$("$PY" -c 'import importlib.util, sys
print(*[pair for pair in sys.argv[1:] if importlib.util.find_spec(pair.split(":")[0]) is None])' \
        torch:torch $BUNDLE_MODULES)
    if [[ " $missing " == *" torch:torch "* ]]; then
        echo "$PY can't find torch, which must be installed already: the bundle has none" >&2
        return 1
    fi
    for pair in $BUNDLE_MODULES; do
        module=${pair%%:*}
        if [[ " $missing " == *" $pair "* || " $* " == *" $module "* ]]; then
            echo "installing ${pair##*:} from the bundle into $SITE"
            found=$(wheel "${pair##*:}")
            install_wheel "$SITE" "$found"
        fi
    done
    "$PY" -c 'import labml.configs, torchvision'
    local raw=$DATA/MNIST/raw
    mkdir -p "$raw"
    for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte \
        t10k-labels-idx1-ubyte; do
        [ -f "$raw/$name" ] || gzip -dc "$BUNDLE/mnist/$name.gz" > "$raw/$name"
    done
}

# Steps run their command in a shell of its own, which sees exported functions only
export -f wheel install_wheel install_from_bundle
