#pragma once
// Turning the demo assets into a populated workspace: one index job over the demo corpus for
// every demo SAE, then the manifest's feature labels (checked by reading each feature's top
// contexts) on features that carry no label yet, so a user's own labels always win.

#include "core/analysis/index_job.h"
#include "core/demo/demo_paths.h"
#include "core/store/database.h"

namespace fscope::core::demo {

analysis::IndexRequest demoIndexRequest(const DemoAssets &assets, const std::string &device = "auto");

// Labels the demo SAEs' features; `indexIds` are the index job's ids in the request's SAE
// order. Returns how many labels were written.
Result<int> applyDemoLabels(store::Database &db, const DemoAssets &assets, const std::vector<int64_t> &indexIds);

} // namespace fscope::core::demo
