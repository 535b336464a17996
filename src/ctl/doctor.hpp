#pragma once

// `ndproxyctl doctor`: reads the host (sysctls, links, routes, bridges, the kernel's proxy
// table) and asks the daemon if it runs, then prints what ctl/doctor_checks.hpp judges.

#include <optional>
#include <string>

namespace ndproxy::ctl {

struct DoctorOptions {
    std::string config_path;                 // the daemon's configuration file
    std::optional<std::string> socket_path;  // --socket; otherwise the file's control-socket
    bool json = false;
    double window = 600;  // seconds without a solicitation for a prefix before a warning
};

// Prints the findings; returns the exit status (0 all OK, 1 a warning, 2 a failure).
int run_doctor(const DoctorOptions& options);

}  // namespace ndproxy::ctl
