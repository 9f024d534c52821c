#include "plugins/host/pluginmanager.h"

#include "plugins/api/pluginapi.h"
#include "plugins/api/reportexporter.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QLibrary>
#include <QPluginLoader>
#include <QSettings>
#include <QStandardPaths>

namespace fscope::plugins {

struct PluginManager::Entry {
    PluginSpec spec;
    QObject *instance = nullptr; // owned by Qt's plugin machinery
    std::unique_ptr<QPluginLoader> loader; // shared plugins only
    QObject *(*staticInstance)() = nullptr; // static plugins only
};

namespace {

const char *kDisabledKey = "plugins/disabled";

QStringList disabledIds()
{
    return QSettings().value(QLatin1String(kDisabledKey)).toStringList();
}

} // namespace

PluginSpec checkPluginMetaData(const QJsonObject &metaData)
{
    PluginSpec spec;
    spec.iid = metaData.value(QLatin1String("IID")).toString();
    const QJsonObject meta = metaData.value(QLatin1String("MetaData")).toObject();
    spec.id = meta.value(QLatin1String("id")).toString();
    spec.name = meta.value(QLatin1String("name")).toString();
    spec.version = meta.value(QLatin1String("version")).toString();
    spec.vendor = meta.value(QLatin1String("vendor")).toString();
    spec.description = meta.value(QLatin1String("description")).toString();
    spec.category = meta.value(QLatin1String("category")).toString();
    spec.compatVersion = meta.value(QLatin1String("compatVersion")).toInt(0);
    if (spec.name.isEmpty())
        spec.name = spec.id;
    if (spec.id.isEmpty())
        spec.error = QObject::tr("its plugin.json has no \"id\"");
    else if (!PluginManager::knownInterfaces().contains(spec.iid))
        spec.error
            = QObject::tr("implements %1, which this Featurescope does not know (it knows %2)")
                  .arg(spec.iid.isEmpty() ? QObject::tr("no interface") : spec.iid,
                      PluginManager::knownInterfaces().join(QLatin1String(", ")));
    else if (spec.compatVersion < 1)
        spec.error = QObject::tr("its plugin.json has no valid \"compatVersion\"");
    else if (spec.compatVersion > kPluginApiVersion)
        spec.error = QObject::tr("needs plugin API %1; this Featurescope provides %2")
                         .arg(spec.compatVersion)
                         .arg(kPluginApiVersion);
    return spec;
}

PluginManager::PluginManager(QObject *parent)
    : QObject(parent)
    , m_searchPaths(defaultSearchPaths())
{
}

PluginManager::~PluginManager() = default;

QStringList PluginManager::defaultSearchPaths()
{
    QStringList paths;
    paths << QDir::cleanPath(
        QCoreApplication::applicationDirPath() + QLatin1String("/../lib/featurescope/plugins"));
    const QString data = QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation);
    if (!data.isEmpty())
        paths << QDir::cleanPath(data + QLatin1String("/featurescope/plugins"));
    return paths;
}

void PluginManager::setSearchPaths(const QStringList &paths)
{
    m_searchPaths.clear();
    for (const QString &p : paths)
        if (QDir::isAbsolutePath(p))
            m_searchPaths << QDir::cleanPath(p);
}

QStringList PluginManager::knownInterfaces()
{
    return { QStringLiteral(FSCOPE_REPORT_EXPORTER_IID) };
}

PluginManager::Entry *PluginManager::find(const QString &id)
{
    for (auto &e : m_entries)
        if (e->spec.id == id && e->spec.error.isEmpty())
            return e.get();
    return nullptr;
}

void PluginManager::loadPlugins()
{
    // Refused entries are re-examined on every call; good ones stay.
    m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(),
                        [](const auto &e) { return !e->spec.error.isEmpty(); }),
        m_entries.end());
    addStaticPlugins();
    for (const QString &dir : m_searchPaths)
        scanDirectory(dir);
    Q_EMIT pluginsChanged();
}

void PluginManager::addStaticPlugins()
{
    const QStringList disabled = disabledIds();
    for (const QStaticPlugin &plugin : QPluginLoader::staticPlugins()) {
        PluginSpec spec = checkPluginMetaData(plugin.metaData());
        // Qt's own static plugins (platforms, image formats) are not ours: skip them quietly.
        if (!knownInterfaces().contains(spec.iid))
            continue;
        if (find(spec.id))
            continue;
        spec.builtIn = true;
        auto entry = std::make_unique<Entry>();
        entry->staticInstance = plugin.instance;
        entry->spec = spec;
        entry->spec.enabled = !disabled.contains(spec.id);
        if (entry->spec.error.isEmpty() && entry->spec.enabled)
            loadEntry(*entry);
        m_entries.push_back(std::move(entry));
    }
}

void PluginManager::scanDirectory(const QString &dirPath)
{
    const QDir dir(dirPath);
    if (!dir.exists())
        return;
    const QStringList disabled = disabledIds();
    for (const QFileInfo &info : dir.entryInfoList(QDir::Files, QDir::Name)) {
        const QString file = info.absoluteFilePath();
        if (!QLibrary::isLibrary(file))
            continue;
        bool known = false;
        for (const auto &e : m_entries)
            known = known || e->spec.filePath == file;
        if (known)
            continue;
        auto entry = std::make_unique<Entry>();
        entry->loader = std::make_unique<QPluginLoader>(file);
        // Every symbol resolved at load time: a plugin missing one is refused now, not when a
        // menu item happens to call into it.
        entry->loader->setLoadHints(QLibrary::ResolveAllSymbolsHint);
        const QJsonObject meta = entry->loader->metaData();
        if (meta.isEmpty()) {
            entry->spec.id = info.fileName();
            entry->spec.name = info.fileName();
            entry->spec.error = tr("not a Featurescope plugin (no plugin metadata)");
        } else {
            entry->spec = checkPluginMetaData(meta);
        }
        entry->spec.filePath = file;
        if (entry->spec.error.isEmpty() && find(entry->spec.id))
            entry->spec.error = tr("another plugin already has the id %1").arg(entry->spec.id);
        entry->spec.enabled = !disabled.contains(entry->spec.id);
        if (entry->spec.error.isEmpty() && entry->spec.enabled)
            loadEntry(*entry);
        m_entries.push_back(std::move(entry));
    }
}

bool PluginManager::loadEntry(Entry &entry)
{
    if (entry.instance)
        return true;
    QObject *instance = nullptr;
    if (entry.staticInstance) {
        instance = entry.staticInstance();
    } else if (entry.loader) {
        instance = entry.loader->instance();
        if (!instance) {
            entry.spec.error = entry.loader->errorString();
            return false;
        }
    }
    if (!instance || !instance->qt_metacast(entry.spec.iid.toLatin1().constData())) {
        // The metadata promised an interface the object does not implement.
        entry.spec.error = tr("its object does not implement %1").arg(entry.spec.iid);
        if (entry.loader)
            entry.loader->unload();
        return false;
    }
    entry.instance = instance;
    entry.spec.loaded = true;
    return true;
}

QList<PluginSpec> PluginManager::plugins() const
{
    QList<PluginSpec> out;
    for (const auto &e : m_entries)
        out.append(e->spec);
    return out;
}

QStringList PluginManager::errors() const
{
    QStringList out;
    for (const auto &e : m_entries)
        if (!e->spec.error.isEmpty())
            out << QStringLiteral("%1: %2").arg(
                e->spec.filePath.isEmpty() ? e->spec.id : e->spec.filePath, e->spec.error);
    return out;
}

bool PluginManager::setEnabled(const QString &id, bool enabled)
{
    Entry *entry = find(id);
    if (!entry)
        return false;
    QStringList disabled = disabledIds();
    disabled.removeAll(id);
    if (!enabled)
        disabled << id;
    QSettings().setValue(QLatin1String(kDisabledKey), disabled);
    entry->spec.enabled = enabled;
    const bool ok = !enabled || loadEntry(*entry);
    Q_EMIT pluginsChanged();
    return ok;
}

QList<QObject *> PluginManager::instances() const
{
    QList<QObject *> out;
    for (const auto &e : m_entries)
        if (e->instance && e->spec.enabled && e->spec.error.isEmpty())
            out.append(e->instance);
    return out;
}

} // namespace fscope::plugins
