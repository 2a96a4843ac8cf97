//! The interface's words in English, Ukrainian and Russian, chosen by the
//! `homeward_lang` cookie (set from the language menu) or else by
//! Accept-Language. Data (names, places) is never translated: it is shown
//! as written, with a Latin transliteration beside Cyrillic.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use homeward_matching::{Scheme, transliterate};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Uk,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Uk, Lang::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Uk => "uk",
            Lang::Ru => "ru",
        }
    }

    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Uk => "Українська",
            Lang::Ru => "Русский",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let primary = s.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        Lang::ALL.into_iter().find(|l| l.code() == primary)
    }

    /// The cookie first, then the first Accept-Language tag we speak.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == "homeward_lang")
            .and_then(|(_, v)| Lang::parse(v));
        cookie
            .or_else(|| {
                let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
                accept.split(',').filter_map(|tag| Lang::parse(tag.split(';').next()?)).next()
            })
            .unwrap_or(Lang::En)
    }

    pub fn t(self) -> &'static Strings {
        match self {
            Lang::En => &EN,
            Lang::Uk => &UK,
            Lang::Ru => &RU,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

/// Every word of the interface.
#[derive(Debug)]
pub struct Strings {
    pub registry: &'static str,
    pub search: &'static str,
    pub search_hint: &'static str,
    pub status: &'static str,
    pub power: &'static str,
    pub source: &'static str,
    pub any: &'static str,
    pub apply: &'static str,
    pub name: &'static str,
    pub birth_date: &'static str,
    pub next_page: &'static str,
    pub nobody: &'static str,
    pub person: &'static str,
    pub timeline: &'static str,
    pub identities: &'static str,
    pub version: &'static str,
    pub recorded_at: &'static str,
    pub reported_by: &'static str,
    pub occurred_on: &'static str,
    pub place: &'static str,
    pub import: &'static str,
    pub import_help: &'static str,
    pub file: &'static str,
    pub dry_run: &'static str,
    pub upload: &'static str,
    pub rows: &'static str,
    pub created: &'static str,
    pub committed: &'static str,
    pub not_committed: &'static str,
    pub importing: &'static str,
    pub waiting: &'static str,
    pub validated: &'static str,
    pub interrupted: &'static str,
    pub progress: &'static str,
    pub amended: &'static str,
    pub unchanged: &'static str,
    pub line: &'static str,
    pub field: &'static str,
    pub reason: &'static str,
    pub public_log: &'static str,
    pub latest_checkpoint: &'static str,
    pub no_checkpoint: &'static str,
    pub how_to_verify: &'static str,
    pub verify_steps: [&'static str; 3],
    pub counts: &'static str,
    pub home: &'static str,
    pub language: &'static str,
    pub log_out: &'static str,
    pub tracing: &'static str,
    pub file_request: &'static str,
    pub enquirer_name: &'static str,
    pub relationship: &'static str,
    pub contact: &'static str,
    pub sought: &'static str,
    pub family_name: &'static str,
    pub given_names: &'static str,
    pub patronymic: &'static str,
    pub consent: &'static str,
    pub send: &'static str,
    pub filed: &'static str,
    pub searching: &'static str,
    pub found: &'static str,
    pub fate_alive: &'static str,
    pub fate_dead: &'static str,
    pub fate_unknown: &'static str,
    pub no_requests: &'static str,
    pub desk: &'static str,
    pub candidates: &'static str,
    pub probability: &'static str,
    pub why: &'static str,
    pub confirm: &'static str,
    pub reject: &'static str,
    pub disclosure: &'static str,
    pub disclose_fate: &'static str,
    pub disclose_status: &'static str,
    pub request: &'static str,
    pub staff_search: &'static str,
    pub filed_at: &'static str,
    pub decision: &'static str,
    pub service_number: &'static str,
    pub limit: &'static str,
    /// The page for a form the server could not use.
    pub error: &'static str,
    pub form_unreadable: &'static str,
    pub form_too_large: &'static str,
    pub form_wrong_type: &'static str,
    /// What families read for each status, in `Status::ALL` order.
    pub statuses: [&'static str; 13],
}

impl Strings {
    /// A status as a family reads it, in this language.
    pub fn status_name(&self, status: homeward_domain::Status) -> &'static str {
        let at = homeward_domain::Status::ALL.iter().position(|s| *s == status).unwrap_or(0);
        self.statuses[at]
    }
}

pub static EN: Strings = Strings {
    registry: "Registry",
    search: "Search by name",
    search_hint: "Any script: Коваленко, Kovalenko.",
    status: "Status",
    power: "Depends on",
    source: "Registered by",
    any: "any",
    apply: "Apply",
    name: "Name",
    birth_date: "Born",
    next_page: "Next page",
    nobody: "No one matches.",
    person: "Person",
    timeline: "Status timeline",
    identities: "Identity, as each source wrote it",
    version: "version",
    recorded_at: "Recorded",
    reported_by: "Reported by",
    occurred_on: "Date",
    place: "Place",
    import: "Import a CSV file",
    import_help: "UTF-8 CSV with the documented header. The file lands whole or not at all; rejected rows are listed by line and field.",
    file: "CSV file",
    dry_run: "Check only, write nothing",
    upload: "Import",
    rows: "Rows read",
    created: "New persons",
    committed: "Imported.",
    not_committed: "Nothing was written.",
    importing: "Importing…",
    waiting: "Waiting for its turn…",
    validated: "Every row is valid (dry run): nothing was written.",
    interrupted: "Interrupted: nothing was written.",
    progress: "Import progress",
    amended: "Amended",
    unchanged: "Unchanged",
    line: "Line",
    field: "Field",
    reason: "Problem",
    public_log: "The shared log",
    latest_checkpoint: "Latest signed checkpoint",
    no_checkpoint: "No checkpoint has been signed yet.",
    how_to_verify: "How to verify",
    verify_steps: [
        "Fetch the checkpoint and the public key (/api/v1/log/public-key); check the signature.",
        "Keep the checkpoint; later, ask for a consistency proof (/api/v1/log/proof/consistency?old=M) to see that the log only grew.",
        "Or run: homeward log verify — it recomputes the log from the database.",
    ],
    counts: "Persons per status",
    home: "Home",
    language: "Language",
    log_out: "Log out",
    tracing: "Tracing requests",
    file_request: "Ask us to find a relative",
    enquirer_name: "Your name",
    relationship: "Your relationship to them",
    contact: "How to reach you (phone or email)",
    sought: "The person you are looking for",
    family_name: "Family name",
    given_names: "Given name(s)",
    patronymic: "Patronymic",
    consent: "I agree that my request and my contact are kept and used to search for this person.",
    send: "Send",
    filed: "Your request was received. We are searching.",
    searching: "We are searching.",
    found: "A caseworker has confirmed a link.",
    fate_alive: "Alive",
    fate_dead: "Deceased",
    fate_unknown: "Unknown",
    no_requests: "No requests.",
    desk: "Desk",
    candidates: "Candidates",
    probability: "Probability",
    why: "Why",
    confirm: "Confirm",
    reject: "Reject",
    disclosure: "What the family is told",
    disclose_fate: "Fate only (alive, deceased, unknown)",
    disclose_status: "Current status and its date (never the place)",
    request: "Request",
    staff_search: "Search the registry",
    filed_at: "Filed",
    decision: "Decision",
    service_number: "Service number",
    limit: "How many",
    error: "The form could not be used",
    form_unreadable: "The form could not be read: a field is missing or not what this page expects. Go back, check the fields and send it again.",
    form_too_large: "The form is larger than this page accepts.",
    form_wrong_type: "The form was not sent the way this page sends it. Go back and send it from the page.",
    statuses: [
        "Missing",
        "Captured",
        "Held",
        "In hospital",
        "Nominated for exchange",
        "Handed over",
        "Repatriated (home)",
        "Family contacted",
        "Released",
        "Escaped",
        "Refused repatriation",
        "Deceased",
        "Remains returned",
    ],
};

pub static UK: Strings = Strings {
    registry: "Реєстр",
    search: "Пошук за ім'ям",
    search_hint: "Будь-яким письмом: Коваленко, Kovalenko.",
    status: "Статус",
    power: "Сторона",
    source: "Зареєстровано",
    any: "будь-який",
    apply: "Застосувати",
    name: "Ім'я",
    birth_date: "Народження",
    next_page: "Наступна сторінка",
    nobody: "Нікого не знайдено.",
    person: "Особа",
    timeline: "Історія статусів",
    identities: "Особові дані, як їх записало кожне джерело",
    version: "версія",
    recorded_at: "Записано",
    reported_by: "Повідомлено",
    occurred_on: "Дата",
    place: "Місце",
    import: "Імпорт файлу CSV",
    import_help: "CSV у UTF-8 з документованим заголовком. Файл імпортується повністю або ніяк; відхилені рядки наведено з номером рядка і поля.",
    file: "Файл CSV",
    dry_run: "Лише перевірити, нічого не записувати",
    upload: "Імпортувати",
    rows: "Прочитано рядків",
    created: "Нових осіб",
    committed: "Імпортовано.",
    not_committed: "Нічого не записано.",
    importing: "Імпортується…",
    waiting: "Очікує своєї черги…",
    validated: "Усі рядки правильні (перевірка): нічого не записано.",
    interrupted: "Перервано: нічого не записано.",
    progress: "Поступ імпорту",
    amended: "Змінено",
    unchanged: "Без змін",
    line: "Рядок",
    field: "Поле",
    reason: "Проблема",
    public_log: "Спільний журнал",
    latest_checkpoint: "Остання підписана контрольна точка",
    no_checkpoint: "Жодної контрольної точки ще не підписано.",
    how_to_verify: "Як перевірити",
    verify_steps: [
        "Завантажте контрольну точку і відкритий ключ (/api/v1/log/public-key); перевірте підпис.",
        "Збережіть контрольну точку; пізніше запитайте доказ узгодженості (/api/v1/log/proof/consistency?old=M), щоб переконатися, що журнал лише зростав.",
        "Або виконайте: homeward log verify — перераховує журнал з бази даних.",
    ],
    counts: "Осіб за статусом",
    home: "Головна",
    language: "Мова",
    log_out: "Вийти",
    tracing: "Запити на розшук",
    file_request: "Попросити знайти родича",
    enquirer_name: "Ваше ім'я",
    relationship: "Ким ви йому доводитеся",
    contact: "Як з вами зв'язатися (телефон або email)",
    sought: "Особа, яку ви шукаєте",
    family_name: "Прізвище",
    given_names: "Ім'я",
    patronymic: "По батькові",
    consent: "Я погоджуюся, що мій запит і мої контакти зберігаються та використовуються для розшуку цієї особи.",
    send: "Надіслати",
    filed: "Ваш запит отримано. Ми шукаємо.",
    searching: "Ми шукаємо.",
    found: "Працівник підтвердив збіг.",
    fate_alive: "Живий",
    fate_dead: "Помер",
    fate_unknown: "Невідомо",
    no_requests: "Запитів немає.",
    desk: "Відділ",
    candidates: "Кандидати",
    probability: "Імовірність",
    why: "Чому",
    confirm: "Підтвердити",
    reject: "Відхилити",
    disclosure: "Що повідомити родині",
    disclose_fate: "Лише доля (живий, помер, невідомо)",
    disclose_status: "Поточний статус і його дата (ніколи місце)",
    request: "Запит",
    staff_search: "Пошук у реєстрі",
    filed_at: "Подано",
    decision: "Рішення",
    service_number: "Військовий номер",
    limit: "Скільки",
    error: "Не вдалося використати форму",
    form_unreadable: "Не вдалося прочитати форму: якогось поля бракує або воно не таке, як очікує ця сторінка. Поверніться, перевірте поля й надішліть ще раз.",
    form_too_large: "Форма більша, ніж приймає ця сторінка.",
    form_wrong_type: "Форму надіслано не так, як її надсилає ця сторінка. Поверніться й надішліть її зі сторінки.",
    statuses: [
        "Зниклий безвісти",
        "Потрапив у полон",
        "Утримується",
        "У лікарні",
        "Включений до списку на обмін",
        "Переданий",
        "Повернувся додому",
        "Родину повідомлено",
        "Звільнений",
        "Втік",
        "Відмовився від репатріації",
        "Помер",
        "Тіло повернуто",
    ],
};

pub static RU: Strings = Strings {
    registry: "Реестр",
    search: "Поиск по имени",
    search_hint: "Любым письмом: Коваленко, Kovalenko.",
    status: "Статус",
    power: "Сторона",
    source: "Зарегистрировано",
    any: "любой",
    apply: "Применить",
    name: "Имя",
    birth_date: "Рождение",
    next_page: "Следующая страница",
    nobody: "Никого не найдено.",
    person: "Лицо",
    timeline: "История статусов",
    identities: "Личные данные, как их записал каждый источник",
    version: "версия",
    recorded_at: "Записано",
    reported_by: "Сообщено",
    occurred_on: "Дата",
    place: "Место",
    import: "Импорт файла CSV",
    import_help: "CSV в UTF-8 с документированным заголовком. Файл импортируется целиком или никак; отклонённые строки перечислены с номером строки и поля.",
    file: "Файл CSV",
    dry_run: "Только проверить, ничего не записывать",
    upload: "Импортировать",
    rows: "Прочитано строк",
    created: "Новых лиц",
    committed: "Импортировано.",
    not_committed: "Ничего не записано.",
    importing: "Импортируется…",
    waiting: "Ожидает своей очереди…",
    validated: "Все строки правильные (проверка): ничего не записано.",
    interrupted: "Прервано: ничего не записано.",
    progress: "Ход импорта",
    amended: "Изменено",
    unchanged: "Без изменений",
    line: "Строка",
    field: "Поле",
    reason: "Проблема",
    public_log: "Общий журнал",
    latest_checkpoint: "Последняя подписанная контрольная точка",
    no_checkpoint: "Ни одной контрольной точки ещё не подписано.",
    how_to_verify: "Как проверить",
    verify_steps: [
        "Загрузите контрольную точку и открытый ключ (/api/v1/log/public-key); проверьте подпись.",
        "Сохраните контрольную точку; позже запросите доказательство согласованности (/api/v1/log/proof/consistency?old=M), чтобы убедиться, что журнал только рос.",
        "Или выполните: homeward log verify — пересчитывает журнал из базы данных.",
    ],
    counts: "Лиц по статусу",
    home: "Главная",
    language: "Язык",
    log_out: "Выйти",
    tracing: "Запросы на розыск",
    file_request: "Попросить найти родственника",
    enquirer_name: "Ваше имя",
    relationship: "Кем вы ему приходитесь",
    contact: "Как с вами связаться (телефон или email)",
    sought: "Человек, которого вы ищете",
    family_name: "Фамилия",
    given_names: "Имя",
    patronymic: "Отчество",
    consent: "Я согласен(на), что мой запрос и мои контакты хранятся и используются для розыска этого человека.",
    send: "Отправить",
    filed: "Ваш запрос получен. Мы ищем.",
    searching: "Мы ищем.",
    found: "Сотрудник подтвердил совпадение.",
    fate_alive: "Жив",
    fate_dead: "Умер",
    fate_unknown: "Неизвестно",
    no_requests: "Запросов нет.",
    desk: "Отдел",
    candidates: "Кандидаты",
    probability: "Вероятность",
    why: "Почему",
    confirm: "Подтвердить",
    reject: "Отклонить",
    disclosure: "Что сообщить семье",
    disclose_fate: "Только судьба (жив, умер, неизвестно)",
    disclose_status: "Текущий статус и его дата (никогда не место)",
    request: "Запрос",
    staff_search: "Поиск в реестре",
    filed_at: "Подан",
    decision: "Решение",
    service_number: "Военный номер",
    limit: "Сколько",
    error: "Не удалось использовать форму",
    form_unreadable: "Не удалось прочитать форму: какого-то поля не хватает или оно не такое, как ожидает эта страница. Вернитесь, проверьте поля и отправьте ещё раз.",
    form_too_large: "Форма больше, чем принимает эта страница.",
    form_wrong_type: "Форма отправлена не так, как её отправляет эта страница. Вернитесь и отправьте её со страницы.",
    statuses: [
        "Пропал без вести",
        "Взят в плен",
        "Содержится",
        "В больнице",
        "Включён в список на обмен",
        "Передан",
        "Вернулся домой",
        "Семья уведомлена",
        "Освобождён",
        "Бежал",
        "Отказался от репатриации",
        "Умер",
        "Тело возвращено",
    ],
};

/// A name as written, and its Latin transliteration when it has Cyrillic:
/// the Ukrainian national system for text with Ukrainian letters, ICAO
/// 9303 (the passport standard) otherwise.
pub fn with_latin(name: &str) -> (String, Option<String>) {
    if !name.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c)) {
        return (name.to_owned(), None);
    }
    let ukrainian = name.chars().any(|c| "іїєґІЇЄҐ".contains(c));
    let scheme = if ukrainian { Scheme::Ukrainian2010 } else { Scheme::Icao9303 };
    (name.to_owned(), Some(transliterate(name, scheme)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_wins_then_accept_language() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, "de-DE, uk-UA;q=0.9, ru;q=0.8".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Uk);
        h.insert(header::COOKIE, "homeward_lang=ru".parse().unwrap());
        assert_eq!(Lang::from_headers(&h), Lang::Ru);
    }

    #[test]
    fn every_status_has_a_name_for_families_in_every_language() {
        for t in [&EN, &UK, &RU] {
            let names: std::collections::HashSet<_> =
                homeward_domain::Status::ALL.iter().map(|s| t.status_name(*s)).collect();
            assert_eq!(names.len(), 13, "one distinct name per status");
        }
        assert_eq!(UK.status_name(homeward_domain::Status::Captured), "Потрапив у полон");
        assert_eq!(RU.status_name(homeward_domain::Status::Deceased), "Умер");
        assert_eq!(EN.status_name(homeward_domain::Status::Hospitalised), "In hospital");
    }

    #[test]
    fn cyrillic_names_get_a_latin_form() {
        assert_eq!(with_latin("Kovalenko").1, None);
        assert_eq!(with_latin("Олексій").1.as_deref(), Some("Oleksii"));
        assert_eq!(with_latin("Коваленко").1.as_deref(), Some("Kovalenko"));
    }
}
