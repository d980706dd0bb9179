//! `/validate_url?validate_type=check_mqtt` for `mqtt://host:port`: the gateway connects to the
//! broker with the given client id and credentials and reports whether the broker accepted it.
//! Only plain TCP is simulated (mqtts/ws/wss are not). The result wording is UNVERIFIED.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// MQTT 3.1.1 remaining-length encoding.
fn remaining_length(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            break;
        }
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A CONNECT packet (clean session, 60 s keep-alive).
pub fn connect_packet(client_id: &str, user: &str, password: &str) -> Vec<u8> {
    let mut body = Vec::new();
    string("MQTT", &mut body);
    body.push(4); // protocol level 3.1.1
    let mut flags = 0x02; // clean session
    if !user.is_empty() {
        flags |= 0x80;
        if !password.is_empty() {
            flags |= 0x40;
        }
    }
    body.push(flags);
    body.extend_from_slice(&60u16.to_be_bytes());
    string(client_id, &mut body);
    if !user.is_empty() {
        string(user, &mut body);
        if !password.is_empty() {
            string(password, &mut body);
        }
    }
    let mut packet = vec![0x10];
    remaining_length(body.len(), &mut packet);
    packet.extend_from_slice(&body);
    packet
}

/// `(status, message)` of a check against `mqtt://host:port`.
pub async fn check(url: &str, client_id: &str, user: &str, password: &str) -> (u16, String) {
    let Some(rest) = url.strip_prefix("mqtt://") else {
        return (400, format!("Incorrect URL: '{url}'"));
    };
    let hostport = rest.split('/').next().unwrap_or("");
    let connect = tokio::time::timeout(Duration::from_secs(30), async {
        let mut s = TcpStream::connect(hostport).await?;
        s.write_all(&connect_packet(client_id, user, password))
            .await?;
        let mut ack = [0u8; 4];
        s.read_exact(&mut ack).await?;
        Ok::<[u8; 4], std::io::Error>(ack)
    })
    .await;
    match connect {
        Err(_) => (502, "Timeout waiting for a response from the server".into()),
        Ok(Err(e)) => (
            502,
            format!("Network error when communicating with the server, err={e}"),
        ),
        Ok(Ok([0x20, 0x02, _, 0])) => (200, String::new()),
        Ok(Ok([0x20, 0x02, _, 4 | 5])) => (401, "MQTT broker refused the credentials".into()),
        Ok(Ok([0x20, 0x02, _, code])) => (
            502,
            format!("MQTT broker refused the connection, code {code}"),
        ),
        Ok(Ok(_)) => (502, "Not an MQTT broker".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_packet_layout() {
        let p = connect_packet("gw", "u", "p");
        assert_eq!(p[0], 0x10);
        assert_eq!(usize::from(p[1]), p.len() - 2);
        assert_eq!(&p[2..8], b"\x00\x04MQTT");
        assert_eq!(p[8], 4);
        assert_eq!(p[9], 0xC2, "user + password + clean session");
        let mut len = Vec::new();
        remaining_length(321, &mut len);
        assert_eq!(len, [0xC1, 0x02]);
    }
}
