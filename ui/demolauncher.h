#pragma once
// The demo in the workbench: opens the demo workspace, indexes it the first time (core's
// populateDemoWorkspace, as `featurescope-cli demo`), then fills the panels: a labelled
// feature on screen, the decomposition example, the steering prompt and SAE Match over the
// per-layer SAEs.

namespace fscope::ui {

class MainWindow;

// False (with a message box) when the demo assets are missing.
bool launchDemo(MainWindow *window);

} // namespace fscope::ui
