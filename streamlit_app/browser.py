"""How the tests and benchmarks drive Debian's Chromium (installed by install_browser.sh)."""

# No background traffic (nothing may be fetched from outside this machine); WebGL on
# SwiftShader for deck.gl's map without a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]
