#include "daemon/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "core/log.hpp"

namespace ndproxy {
namespace {

// CAP_NET_ADMIN: proxy entries over netlink, the sysctls, a larger netlink buffer.
// CAP_NET_RAW: the AF_PACKET socket that sees solicitations and the raw ICMPv6 socket.
constexpr std::uint32_t kKeptCapabilities = (1u << CAP_NET_ADMIN) | (1u << CAP_NET_RAW);

// A user the daemon can run as, from the password database.
struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;  // primary group: it owns the control socket
};

[[noreturn]] void fail(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what);
}

std::optional<Account> look_up(const std::string& name) {
    const long suggested = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(suggested > 0 ? static_cast<std::size_t>(suggested) : 4096);
    passwd entry{};
    passwd* found = nullptr;
    int error = 0;
    while ((error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
           ERANGE) {
        buffer.resize(buffer.size() * 2);
    }
    if (error != 0) {
        fail(error, fmt::format("cannot look up user \"{}\"", name));
    }
    if (found == nullptr) {
        return std::nullopt;
    }
    return Account{name, found->pw_uid, found->pw_gid};
}

// The socket is bound after the switch, so its directory must be the user's. A directory that
// already exists is left alone (an operator's choice, e.g. /run), except the default one, which
// belongs to the daemon's user by definition (a root daemon of an earlier version made it).
void prepare_socket_directory(const std::string& socket_path, const Account& account) {
    const std::filesystem::path directory = std::filesystem::path(socket_path).parent_path();
    if (directory.empty()) {
        return;
    }
    std::error_code error;
    const bool created = std::filesystem::create_directories(directory, error);
    if (error) {
        fail(error.value(),
             fmt::format("cannot create {} for the control socket", directory.string()));
    }
    if (!created && directory != std::filesystem::path(kDefaultControlSocket).parent_path()) {
        return;
    }
    // 0750: the socket's group (the operators) may reach it, others not; as the unit's
    // RuntimeDirectoryMode.
    if (::chown(directory.c_str(), account.uid, account.gid) < 0 ||
        ::chmod(directory.c_str(), 0750) < 0) {
        fail(errno, fmt::format("cannot hand {} to user {}", directory.string(), account.name));
    }
}

void set_capabilities(std::uint32_t kept) {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    // Version 3 takes two words; the two capabilities are below 32. Nothing inheritable: the
    // daemon runs no other program.
    __user_cap_data_struct data[2] = {{kept, kept, 0}, {0, 0, 0}};
    if (::syscall(SYS_capset, &header, data) < 0) {
        fail(errno, "cannot set capabilities");
    }
}

void switch_to(const Account& account) {
    // The bounding set first: dropping from it takes CAP_SETPCAP, which goes with root.
    for (int capability = 0; ::prctl(PR_CAPBSET_READ, capability, 0, 0, 0) >= 0; ++capability) {
        if ((capability >= 32 || (kKeptCapabilities & (1u << capability)) == 0) &&
            ::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) < 0) {
            fail(errno, fmt::format("cannot drop capability {} from the bounding set", capability));
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
        fail(errno, "cannot clear the ambient capabilities");
    }
    // Keeps the permitted set across the change of uid; the effective set is raised again below.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
        fail(errno, "cannot keep capabilities across the change of user");
    }
    // The user's groups from the group database, as systemd's User= gives them.
    if (::initgroups(account.name.c_str(), account.gid) < 0) {
        fail(errno, fmt::format("cannot set the groups of user {}", account.name));
    }
    if (::setresgid(account.gid, account.gid, account.gid) < 0) {
        fail(errno, fmt::format("cannot change to group {}", account.gid));
    }
    if (::setresuid(account.uid, account.uid, account.uid) < 0) {
        fail(errno, fmt::format("cannot change to user {}", account.name));
    }
    set_capabilities(kKeptCapabilities);
    if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        fail(errno, "cannot lock the capabilities");
    }
    // A saved root uid would let the process become root again.
    uid_t real = 0;
    uid_t effective = 0;
    uid_t saved = 0;
    if (::getresuid(&real, &effective, &saved) < 0 || real != account.uid ||
        effective != account.uid || saved != account.uid || ::setuid(0) == 0) {
        throw std::runtime_error(
            fmt::format("still able to become root after switching to {}", account.name));
    }
}

// The account `config.user` names, or the default user if it exists (nullopt: it does not).
// Throws ConfigError for a named user that does not exist.
std::optional<Account> configured_account(const Config& config) {
    const std::string name = config.user.value_or(kDefaultUser);
    auto account = look_up(name);
    if (!account && config.user) {
        throw ConfigError(fmt::format("user \"{}\" does not exist (--user, or \"user =\" in {})",
                                      name, config.config_path));
    }
    return account;
}

}  // namespace

void drop_privileges(const Config& config) {
    const std::optional<Account> account = configured_account(config);
    const uid_t current = ::geteuid();
    if (!account) {
        if (current == 0) {
            log::warn(
                "running as root: there is no user {} to switch to (the package creates it; "
                "\"user = root\" stays root without this warning)",
                kDefaultUser);
        }
        return;
    }
    if (account->uid == current) {
        return;  // systemd's User= did it, or "user = root"
    }
    if (current != 0) {
        // Under the unit with a file that names another user: the unit decides.
        log::warn("user {} ignored: started as uid {}, which cannot switch users", account->name,
                  current);
        return;
    }
    prepare_socket_directory(config.control_socket, *account);
    switch_to(*account);
    log::info("running as user {} (uid {}, gid {}) with CAP_NET_ADMIN and CAP_NET_RAW only",
              account->name, account->uid, account->gid);
}

}  // namespace ndproxy
