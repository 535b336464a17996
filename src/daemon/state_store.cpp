#include "daemon/state_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/log.hpp"
#include "core/responder_state.hpp"
#include "core/unique_fd.hpp"

namespace ndproxy {
namespace {

// Far beyond any real file (40 bytes an address); a larger one is not ours.
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t{256} << 20;

}  // namespace

std::vector<Ipv6Address> StateStore::load() {
    struct stat status = {};
    if (::stat(path_.c_str(), &status) < 0) {
        log::info(
            "no state file {} ({}): addresses the responder answered before are announced "
            "again when next seen",
            path_, std::strerror(errno));
        return {};
    }
    std::optional<std::vector<Ipv6Address>> addresses;
    if (static_cast<std::uintmax_t>(status.st_size) <= kMaxFileBytes) {
        std::ifstream file(path_, std::ios::binary);
        std::ostringstream text;
        text << file.rdbuf();
        if (file) {
            addresses = responder_state::parse(text.view());
        }
    }
    if (!addresses) {
        log::warn(
            "ignoring the state file {}: it is not one ndproxyd wrote; addresses the "
            "responder answered before are announced again when next seen",
            path_);
        return {};
    }
    log::info("state file {}: {} addresses the responder answered before the restart", path_,
              addresses->size());
    std::sort(addresses->begin(), addresses->end());
    on_disk_ = *addresses;
    return std::move(*addresses);
}

void StateStore::note(std::uint64_t changes, TimePoint now) {
    if (changes != changes_) {
        changes_ = changes;
        if (!deadline_) {
            deadline_ = now + kDelay;
        }
    }
}

void StateStore::write(const std::vector<Ipv6Address>& addresses) {
    deadline_.reset();
    if (read_only_ || addresses == on_disk_) {
        return;
    }
    const std::string text = responder_state::format(addresses);
    const std::string temporary = path_ + ".tmp";
    // Renamed over the old one, so a reader (the next start) sees one whole file or the other.
    // Not synced: the file matters for a restart of the daemon, after which the page cache is
    // intact; after a crash of the host its VMs are gone as well.
    const UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    std::size_t written = 0;
    while (fd && written < text.size()) {
        const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        written += static_cast<std::size_t>(n);
    }
    const bool ok = fd && written == text.size() && ::rename(temporary.c_str(), path_.c_str()) == 0;
    if (!ok) {
        const int error = errno;
        ::unlink(temporary.c_str());
        if (!failure_logged_) {
            log::warn(
                "cannot write the state file {}: {}; after a restart, addresses the "
                "responder answers are announced again when next seen",
                path_, std::strerror(error));
            failure_logged_ = true;
        }
        return;
    }
    if (failure_logged_) {
        log::info("state file {} written again", path_);
        failure_logged_ = false;
    }
    on_disk_ = addresses;
}

}  // namespace ndproxy
