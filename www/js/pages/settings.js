// Settings page (#/settings): the signed-in account (username, role, log out)
// and a few facts about this hub and browser session.

import { h, icon, button } from '../ui.js';

const ROLE_TEXT = {
  admin: 'Administrator: manages doorbells, users and settings.',
  viewer: 'Viewer: sees the doorbells shared with this account.',
};

export function mount(main, ctx) {
  const user = ctx.user || {};
  const logoutBtn = button('Log out', { icon: 'logout', variant: 'btn-secondary', 'data-testid': 'settings-logout' });
  logoutBtn.addEventListener('click', () => ctx.logout(logoutBtn));

  main.append(h('section', { class: 'page narrow' },
    h('div', { class: 'page-head' }, h('div', {}, h('h1', { text: 'Settings' }))),
    h('section', { class: 'card panel' },
      h('h2', { class: 'section-title' }, icon('user'), h('span', { text: 'Account' })),
      h('div', { class: 'account' },
        h('span', { class: 'avatar avatar-lg', 'aria-hidden': 'true', text: (user.username || '?').slice(0, 1).toUpperCase() }),
        h('div', { class: 'account-text' },
          h('p', { class: 'account-name', 'data-testid': 'settings-username', text: user.username || '' }),
          h('p', { class: 'muted' },
            h('span', { class: ['badge', user.role === 'admin' ? 'badge-accent' : 'badge-neutral'], 'data-testid': 'settings-role', text: user.role || '' }),
            ' ', ROLE_TEXT[user.role] || '')),
        logoutBtn)),
    h('section', { class: 'card panel' },
      h('h2', { class: 'section-title' }, icon('info'), h('span', { text: 'This hub' })),
      h('dl', { class: 'stats stats-rows' },
        row('Address', location.host),
        row('Connection', location.protocol === 'https:' ? 'Encrypted (HTTPS)' : 'Not encrypted'),
        row('Appearance', 'Follows the system’s light or dark mode')))));
}

function row(label, value) {
  return h('div', { class: 'stat' }, h('dt', { text: label }), h('dd', { text: value }));
}
