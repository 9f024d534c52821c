#pragma once
// Finds, checks and loads plugins; the one typed registry the app asks for extensions
// (objects<ReportExporter>()). Built-in plugins are static; shared plugins come only from the
// install directory and the user's plugin directory, never from the working directory.
// Each plugin's metadata (its plugin.json) is read and checked before its library is loaded:
// an unknown interface or a newer plugin API is refused without running any of its code.
// A plugin that fails to load is reported in its spec and skipped; the app carries on.

#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

class QPluginLoader;

namespace fscope::plugins {

struct PluginSpec {
    QString id; // reverse-DNS, unique ("org.featurescope.exporter.html")
    QString name, version, vendor, description, category;
    QString iid; // the interface it implements
    int compatVersion = 0; // the plugin API it needs
    QString filePath; // empty for built-in plugins
    bool builtIn = false;
    bool enabled = true; // the user's choice (disabled plugins are not loaded)
    bool loaded = false;
    QString error; // why it was refused or failed to load
};

class PluginManager : public QObject {
    Q_OBJECT
public:
    explicit PluginManager(QObject *parent = nullptr);
    ~PluginManager() override;

    // <install prefix>/lib/featurescope/plugins and <XDG data home>/featurescope/plugins.
    static QStringList defaultSearchPaths();
    // Relative paths are dropped: plugins never load from the working directory.
    void setSearchPaths(const QStringList &paths);
    QStringList searchPaths() const { return m_searchPaths; }
    // The interfaces (IIDs) this host knows.
    static QStringList knownInterfaces();

    // Registers the static plugins and loads the shared ones found in the search paths.
    // Calling it again reloads the list (plugins already loaded stay loaded).
    void loadPlugins();

    QList<PluginSpec> plugins() const;
    // Plugins refused or failed, as "file or id: reason" lines.
    QStringList errors() const;

    // Enables or disables a plugin (remembered in QSettings "plugins/disabled"); enabling a
    // shared plugin loads it. False when the id is unknown or the load fails.
    bool setEnabled(const QString &id, bool enabled);

    // The loaded, enabled plugin objects implementing T, in load order.
    template <class T> QList<T *> objects() const
    {
        QList<T *> out;
        for (QObject *o : instances())
            if (T *t = qobject_cast<T *>(o))
                out.append(t);
        return out;
    }

Q_SIGNALS:
    void pluginsChanged();

private:
    struct Entry;
    QList<QObject *> instances() const;
    void addStaticPlugins();
    void scanDirectory(const QString &dir);
    bool loadEntry(Entry &entry);
    Entry *find(const QString &id);

    QStringList m_searchPaths;
    std::vector<std::unique_ptr<Entry>> m_entries;
};

// Reads a plugin's metadata object (QPluginLoader::metaData() / QStaticPlugin::metaData())
// into a spec and checks it; `spec.error` says what is wrong, empty when it may be loaded.
PluginSpec checkPluginMetaData(const class QJsonObject &metaData);

} // namespace fscope::plugins
