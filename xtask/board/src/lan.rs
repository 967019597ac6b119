//! The address to show attendees, and the page's address as a QR code.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};

/// `host:port` as someone else on the LAN reaches the board. Listening on
/// every interface, the host is the address this machine would send from
/// (a UDP socket "connected" to a documentation address: nothing is sent).
pub fn shown_host(local: SocketAddr) -> String {
    let ip = if local.ip().is_unspecified() {
        outbound_ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    } else {
        local.ip()
    };
    SocketAddr::new(ip, local.port()).to_string()
}

fn outbound_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then_some(ip)
}

/// `text` as a QR code drawn with block characters, two rows per line.
pub fn qr(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let mut drawn = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .dark_color(qrcode::render::unicode::Dense1x2::Light)
                .light_color(qrcode::render::unicode::Dense1x2::Dark)
                .quiet_zone(true)
                .build();
            drawn.push('\n');
            drawn
        }
        Err(_) => String::new(),
    }
}
