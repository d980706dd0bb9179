//! The tray icon: the receiver's state at a glance (menu line and tooltip, refreshed every
//! 5 s), showing the window, quitting. Closing the window leaves Ruuvi Desk receiving in the
//! tray only when the receiver runs (gateways keep posting to it).

use std::sync::Arc;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime};

use ruuvi_app::Desk;

/// Brings the main window back (from the tray, or when Ruuvi Desk is started again).
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

pub fn start<R: Runtime>(app: &AppHandle<R>, desk: Arc<Desk>) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "receiver", "Receiver off", false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Ruuvi Desk", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Ruuvi Desk", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&status, &show, &quit])?;
    let mut builder = TrayIconBuilder::with_id("ruuvi-desk")
        .menu(&menu)
        .tooltip("Ruuvi Desk: receiver off")
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let tray = builder.build(app)?;
    tauri::async_runtime::spawn(async move {
        let mut shown = String::new();
        loop {
            let line = desk.receiver_status().await.summary();
            if line != shown {
                let _ = status.set_text(&line);
                let _ = tray.set_tooltip(Some(format!("Ruuvi Desk: {line}")));
                tracing::info!("tray: {line}");
                shown = line;
            }
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    });
    Ok(())
}
