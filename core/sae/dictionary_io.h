#pragma once
// Dictionary formats beyond single-hook SAEs, each as its own repository writes it
// (dictionaries_interp.md A3, A4, B):
//   Gemma Scope 2       config.json + params.safetensors (SAEs and transcoders, one layer), and
//                       the multi-layer params_layer_{i}.safetensors of its CLTs
//   circuit-tracer      layer_{i}.safetensors per-layer transcoders, and CLT folders with
//                       W_enc_{l}.safetensors + W_dec_{l}.safetensors
//   ITDA                cfg.json + itda.safetensors (atoms and where each came from)
// A folder that holds one dictionary per source layer is a layer set; one layer of it is
// addressed as "DIR#layer=L", which every command and the workspace accept like a path.

#include "core/sae/sae.h"

#include <filesystem>
#include <string>
#include <vector>

namespace fscope::core::sae {

enum class LayerSet { None, GemmaScope2Clt, CircuitTracerTranscoders, CircuitTracerClt };

LayerSet layerSetFormat(const std::filesystem::path &dir);
// The source layers present, ascending.
std::vector<int64_t> layerSetLayers(const std::filesystem::path &dir, LayerSet format);
// "DIR#layer=L" -> (DIR, L); any other path -> (path, -1).
std::pair<std::string, int64_t> splitLayerSelector(const std::string &path);
std::string layerSelector(const std::string &dir, int64_t layer);

bool isGemmaScope2Folder(const std::filesystem::path &dir);
bool isItdaFolder(const std::filesystem::path &dir);
// A circuit-tracer per-layer transcoder file (layer_{i}.safetensors).
bool isCircuitTracerLayerFile(const std::filesystem::path &file);

Result<Sae> loadGemmaScope2(const std::filesystem::path &dir);
Result<Sae> loadCircuitTracerTranscoder(const std::filesystem::path &file);
// A layer set that only looks like one (Gemma Scope 2's crosscoders share its CLTs' file
// names) is refused with the keys its files hold.
Status checkLayerSetSupported(const std::filesystem::path &dir, LayerSet format);
Result<Sae> loadLayerOfSet(const std::filesystem::path &dir, LayerSet format, int64_t layer);
Result<Sae> loadItda(const std::filesystem::path &dir);

} // namespace fscope::core::sae
