#include "app/cli/commands.h"

#include <cstdio>

namespace fscope::cli {

void printUsage()
{
    std::printf(
        "featurescope-cli %s - sparse-autoencoder interpretability workbench, headless\n"
        "\n"
        "Usage: featurescope-cli COMMAND [OPTIONS]\n"
        "\n"
        "Commands:\n"
        "  inspect FILE|DIR       list the tensors of a .safetensors file, a sharded\n"
        "                         checkpoint (model.safetensors.index.json or its directory)\n"
        "                         or an .npz archive: name, dtype, shape, bytes\n"
        "  bench io [--mb N]      time safetensors/npz reading against a plain read baseline\n"
        "\n"
        "Options:\n"
        "  -h, --help             show this help\n"
        "  -V, --version          show the version\n"
        "\n"
        "Pickle checkpoints (.bin, .pt, .pth, .ckpt) are never loaded: convert them to\n"
        "safetensors.\n",
        FEATURESCOPE_VERSION);
}

} // namespace fscope::cli
